use transforms::prelude::*;

#[jacrev(argnums = 0)]
fn f(x: &Tensor, k: i32) -> Tensor {
    x * (!k) as f32
}

fn main() {}
