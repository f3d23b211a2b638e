use transforms::prelude::*;

#[jacrev(argnums = 1)]
fn f(x: &Tensor, c: f32) -> Tensor {
    x * c
}

fn main() {}
