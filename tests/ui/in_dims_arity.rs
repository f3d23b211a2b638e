use transforms::prelude::*;

#[vmap(in_dims = (0, None))]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
