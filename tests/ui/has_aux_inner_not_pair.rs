use transforms::prelude::*;

#[jacrev(grad, has_aux = true)]
fn f(x: &Tensor) -> Tensor {
    x.square().sum()
}

fn main() {}
