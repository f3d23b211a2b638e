use transforms::prelude::*;

const SCALE: f32 = 2.0;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    x.tanh() * SCALE
}

fn main() {}
