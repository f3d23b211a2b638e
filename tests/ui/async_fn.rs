use transforms::prelude::*;

#[jacrev]
async fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
