use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    let mut y = x.clone();
    for s in [0.5f32, 0.25] {
        y = y * s;
    }
    y
}

fn main() {}
