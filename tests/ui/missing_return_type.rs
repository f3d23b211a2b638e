use transforms::prelude::*;

#[grad]
fn f(_x: &Tensor) {
    ()
}

fn main() {}
