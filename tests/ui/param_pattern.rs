use transforms::prelude::*;

#[jacrev]
fn f((x, y): (&Tensor, &Tensor)) -> Tensor {
    x * y
}

fn main() {}
