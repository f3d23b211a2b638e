use transforms::prelude::*;

#[vmap(in_dims = (None, None))]
fn f(x: &Tensor, y: &Tensor) -> Tensor {
    x * y
}

fn main() {}
