use transforms::prelude::*;

#[grad(argnums =)]
fn f(x: &Tensor) -> Tensor {
    x.tanh().sum()
}

fn main() {}
