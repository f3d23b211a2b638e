use transforms::prelude::*;

#[jacrev]
fn f<T: Float>(x: &Tensor<T>) -> Tensor<T> {
    x.tanh()
}

fn main() {}
