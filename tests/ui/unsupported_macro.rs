use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    let y = x.tanh();
    println!("y = {y}");
    y
}

fn main() {}
