use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    x.tanh();
    x.exp()
}

fn main() {}
