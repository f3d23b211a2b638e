use transforms::prelude::*;

#[differentiable]
fn layer(x: &Tensor) -> Tensor {
    x.tanh()
}

mod plain {
    use transforms::prelude::*;

    pub fn activation(x: &Tensor) -> Tensor {
        x.exp()
    }
}

// The differentiable call resolves; only the plain one is reported.
#[differentiable]
fn net(x: &Tensor) -> Tensor {
    plain::activation(&layer(x))
}

fn main() {}
