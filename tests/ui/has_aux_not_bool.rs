use transforms::prelude::*;

#[grad(has_aux = 1)]
fn f(x: &Tensor) -> (Tensor, Tensor) {
    (x.sum(), x.exp())
}

fn main() {}
