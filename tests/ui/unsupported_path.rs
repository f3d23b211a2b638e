use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    x * std::f32::consts::PI
}

fn main() {}
