use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor, _mask: Vec<bool>) -> Tensor {
    x.tanh()
}

fn main() {}
