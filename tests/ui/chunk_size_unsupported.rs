use transforms::prelude::*;

#[grad(chunk_size = 4)]
fn f(x: &Tensor) -> Tensor {
    x.sum()
}

fn main() {}
