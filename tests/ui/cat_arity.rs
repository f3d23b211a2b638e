use transforms::prelude::{Tensor, jacrev};

// Rust itself rejects a call of `transforms::cat` with the wrong arity; the
// body vocabulary goes by name, so a local `cat` taking one argument shows
// the macro's own error.
fn cat(xs: &[&Tensor]) -> Tensor {
    transforms::cat(xs, 0)
}

#[jacrev]
fn f(x: &Tensor) -> Tensor {
    cat(&[x, x])
}

fn main() {}
