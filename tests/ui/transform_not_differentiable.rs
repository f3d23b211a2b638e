use transforms::prelude::*;

fn f(x: &Tensor) -> Tensor {
    x.exp()
}

fn main() {
    let x = Tensor::randn(&[3], 0);
    let _ = transform!(jacrev(f))(&x);
}
