use transforms::prelude::*;

#[vmap(hvp(argnums = 0))]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
