use transforms::prelude::*;

#[jacrev(argnums = -2)]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
