use transforms::prelude::*;

#[custom_jvp(rule)]
fn softplus(x: &Tensor) -> Tensor {
    (x.exp() + 1.0).ln()
}

#[differentiable]
fn rule(x: &Tensor) -> (Tensor, Tensor) {
    ((x.exp() + 1.0).ln(), x.sigmoid())
}

fn main() {}
