use transforms::prelude::*;

fn main() {
    let x = Tensor::randn(&[3], 0);
    let _ = transform!(jacrev(argnums = 0))(&x);
}
