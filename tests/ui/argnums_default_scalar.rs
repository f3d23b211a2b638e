use transforms::prelude::*;

#[jacrev]
fn f(c: f32, x: &Tensor) -> Tensor {
    x * c
}

fn main() {}
