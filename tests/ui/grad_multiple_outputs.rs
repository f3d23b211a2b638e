use transforms::prelude::*;

#[grad]
fn f(x: &Tensor) -> (Tensor, Tensor) {
    (x.sum(), x.mean())
}

fn main() {}
