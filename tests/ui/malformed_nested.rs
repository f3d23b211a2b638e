use transforms::prelude::*;

#[vmap(jacrev[argnums = 0])]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
