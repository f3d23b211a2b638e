use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor, relu: bool) -> Tensor {
    if relu { x.relu() } else { x.tanh() }
}

fn main() {}
