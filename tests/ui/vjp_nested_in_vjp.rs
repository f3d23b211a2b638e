use transforms::prelude::*;

#[vjp(vjp)]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
