use transforms::prelude::*;

#[vmap(in_dims = (0, 0))]
fn f(x: &Tensor, c: f32) -> Tensor {
    x * c
}

fn main() {}
