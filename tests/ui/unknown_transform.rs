use transforms::prelude::*;

#[vmap(jacobian(argnums = 0))]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
