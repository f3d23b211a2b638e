use transforms::prelude::*;

fn helper(x: &Tensor) -> Tensor {
    x.exp()
}

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    helper(x).sum()
}

fn main() {}
