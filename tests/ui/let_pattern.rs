use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    let (_a, _b) = (x.tanh(), x.exp());
    x.sin()
}

fn main() {}
