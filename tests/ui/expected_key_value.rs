use transforms::prelude::*;

#[grad(0)]
fn f(x: &Tensor) -> Tensor {
    x.tanh().sum()
}

fn main() {}
