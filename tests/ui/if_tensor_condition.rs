use transforms::prelude::*;

#[jacrev(argnums = 0)]
fn f(x: &Tensor, y: &Tensor) -> Tensor {
    if x { x.relu() } else { y.tanh() }
}

fn main() {}
