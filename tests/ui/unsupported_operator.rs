use transforms::prelude::*;

#[jacrev(argnums = 0)]
fn f(x: &Tensor, c: f32) -> Tensor {
    x * (c % 2.0)
}

fn main() {}
