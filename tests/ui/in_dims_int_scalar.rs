use transforms::prelude::*;

#[vmap(in_dims = 1)]
fn f(x: &Tensor, c: f32) -> Tensor {
    x * c
}

fn main() {}
