use transforms::prelude::*;

#[grad(argnums = x)]
fn f(x: &Tensor) -> Tensor {
    x.tanh().sum()
}

fn main() {}
