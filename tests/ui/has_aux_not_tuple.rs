use transforms::prelude::*;

#[grad(has_aux = true)]
fn f(x: &Tensor) -> Tensor {
    x.sum()
}

fn main() {}
