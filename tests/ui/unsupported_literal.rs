use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    let _label = "f";
    x.tanh()
}

fn main() {}
