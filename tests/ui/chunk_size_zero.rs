use transforms::prelude::*;

#[vmap(chunk_size = 0)]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
