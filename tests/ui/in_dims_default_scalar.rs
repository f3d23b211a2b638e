use transforms::prelude::*;

#[vmap]
fn f(x: &Tensor, c: f32) -> Tensor {
    x * c
}

fn main() {}
