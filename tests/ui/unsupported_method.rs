use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    x.tanh().movedim(0, 1)
}

fn main() {}
