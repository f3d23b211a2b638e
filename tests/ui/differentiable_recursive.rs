use transforms::prelude::*;

#[differentiable]
fn f(x: &Tensor) -> Tensor {
    f(x).exp()
}

fn main() {}
