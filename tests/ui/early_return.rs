use transforms::prelude::*;

#[jacrev]
#[allow(unreachable_code)]
fn f(x: &Tensor, c: f32) -> Tensor {
    let y = x * c;
    return y;
    x.tanh()
}

fn main() {}
