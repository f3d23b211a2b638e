use transforms::prelude::*;

#[vmap(vjp)]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
