use transforms::prelude::*;

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    x.index_select(0, &vec![0, 1])
}

fn main() {}
