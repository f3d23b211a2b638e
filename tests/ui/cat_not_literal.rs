use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    stack(&vec![x, x], 0)
}

fn main() {}
