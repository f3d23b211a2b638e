use transforms::prelude::*;

#[jacrev(argnums = ())]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
