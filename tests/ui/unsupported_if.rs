use transforms::prelude::*;

#[jacrev(argnums = 0)]
fn f(x: &Tensor, c: f32) -> Tensor {
    if c > 0.0 { x.relu() } else { x.tanh() }
}

fn main() {}
