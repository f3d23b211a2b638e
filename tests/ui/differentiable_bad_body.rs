use transforms::prelude::*;

#[differentiable]
fn layer(x: &Tensor) -> Tensor {
    x.floor()
}

fn main() {}
