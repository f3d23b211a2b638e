use transforms::prelude::*;

#[vmap(in_dims = 0, jacrev)]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
