use transforms::prelude::*;

#[differentiable(fast)]
fn f(x: &Tensor) -> Tensor {
    x.exp()
}

fn main() {}
