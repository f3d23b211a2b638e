use transforms::prelude::*;

fn softplus(x: &Tensor) -> Tensor {
    (x.exp() + 1.0).ln()
}

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    softplus(x)
}

fn main() {}
