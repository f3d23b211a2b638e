use transforms::prelude::*;

const K: usize = 4;

#[jacrev(chunk_size = K)]
fn f(x: &Tensor) -> Tensor {
    x.tanh()
}

fn main() {}
