use transforms::prelude::*;

#[differentiable]
fn layer(x: &Tensor, w: &Tensor) -> Tensor {
    matmul(w, x).tanh()
}

#[jacrev]
fn f(x: &Tensor, w: &Tensor) -> Tensor {
    layer(x).sum() + w.sum()
}

fn main() {}
