use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    let mut y = x.clone();
    for _ in 0..3 {
        y = y.tanh();
    }
    y
}

fn main() {}
