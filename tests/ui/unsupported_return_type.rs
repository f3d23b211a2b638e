use transforms::prelude::*;

#[grad(argnums = 0)]
fn f(c: f32) -> f32 {
    c * c
}

fn main() {}
