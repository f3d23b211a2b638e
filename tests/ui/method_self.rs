use transforms::prelude::*;

struct Model;

impl Model {
    #[jacrev]
    fn f(&self, x: &Tensor) -> Tensor {
        x.tanh()
    }
}

fn main() {}
