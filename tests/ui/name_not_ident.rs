use transforms::prelude::*;

#[grad(name = "f_grad2")]
fn f(x: &Tensor) -> Tensor {
    x.tanh().sum()
}

fn main() {}
