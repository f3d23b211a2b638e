use transforms::prelude::*;

#[grad(argnum = 0)]
fn f(x: &Tensor) -> Tensor {
    x.tanh().sum()
}

fn main() {}
