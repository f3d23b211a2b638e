use transforms::prelude::*;

#[grad(argnums = 0, argnums = 1)]
fn f(x: &Tensor, y: &Tensor) -> Tensor {
    (x * y).sum()
}

fn main() {}
