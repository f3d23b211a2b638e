use transforms::prelude::*;

#[jacrev(argnums = 0)]
fn f(x: &Tensor) -> Tensor {
    (*x).exp()
}

fn main() {}
