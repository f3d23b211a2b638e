use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor, mut h: f32) -> Tensor {
    let mut y = x.clone();
    for _ in 0..3 {
        h = h * 0.5;
        y = &y * h;
    }
    y
}

fn main() {}
