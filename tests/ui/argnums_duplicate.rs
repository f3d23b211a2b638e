use transforms::prelude::*;

#[jacrev(argnums = (0, -2))]
fn f(x: &Tensor, y: &Tensor) -> Tensor {
    x * y
}

fn main() {}
