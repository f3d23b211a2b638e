use transforms::prelude::*;

#[jacrev]
fn f(x: Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
