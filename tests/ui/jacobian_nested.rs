use transforms::prelude::*;

#[vmap(jacobian)]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
