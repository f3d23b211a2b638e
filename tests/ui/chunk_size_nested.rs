use transforms::prelude::*;

#[vmap(jacrev(chunk_size = 4))]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
