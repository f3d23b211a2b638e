use transforms::prelude::*;

#[vmap(jacrev(name = batch_jac))]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
