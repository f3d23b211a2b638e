use transforms::prelude::*;

#[vmap(linearize)]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
