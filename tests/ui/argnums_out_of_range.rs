use transforms::prelude::*;

#[jacrev(argnums = 1)]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
