use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    let mut y = (x.clone(), x.clone());
    for _ in 0..3 {
        y.0 = y.0.tanh();
    }
    x.sin()
}

fn main() {}
