use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor, n: usize) -> Tensor {
    let mut y = x.clone();
    let mut i = 0;
    while i < n {
        y = y.tanh();
        i += 1;
    }
    y
}

fn main() {}
