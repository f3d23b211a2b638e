use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    let (_a, (_b, _c)) = (x.tanh(), (x.exp(), x.cos()));
    x.sin()
}

fn main() {}
