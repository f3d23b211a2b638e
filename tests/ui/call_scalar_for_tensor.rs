use transforms::prelude::*;

#[differentiable]
fn scaled(x: &Tensor, s: f32) -> Tensor {
    x * s
}

#[jacrev]
fn f(x: &Tensor, w: &Tensor) -> Tensor {
    scaled(x, w)
}

fn main() {}
