use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    use std::f32::consts::PI as _;
    x.tanh()
}

fn main() {}
