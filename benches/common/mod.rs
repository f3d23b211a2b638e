//! The benchmark workloads, shared by `workloads.rs` (criterion) and
//! `compare_ours.rs` (the line-per-workload binary `bench/compare` runs).
//! Only the public API is used; `bench/compare.py` mirrors every function
//! here with the same sizes, in float32.

use transforms::Device;
use transforms::prelude::*;

/// The functorch tutorial's model: `tanh(x @ weight.T + bias)`, weight `[Dout, Din]`.
#[jacrev(argnums = 2)]
#[jacfwd(argnums = 2)]
#[hessian(argnums = 2)]
#[vmap(jacrev(argnums = 2), in_dims = (None, None, 0), name = predict_batch_jacrev)]
#[vmap(hessian(argnums = 2), in_dims = (None, None, 0), name = predict_batch_hessian)]
fn predict(weight: &Tensor, bias: &Tensor, x: &Tensor) -> Tensor {
    linear(x, weight, bias).tanh()
}

/// A two-layer MLP, 32 -> 64 (tanh) -> 16, per-sample Jacobian wrt `x`.
#[vmap(jacrev(argnums = 4), in_dims = (None, None, None, None, 0), name = mlp_batch_jacrev)]
fn mlp(w1: &Tensor, b1: &Tensor, w2: &Tensor, b2: &Tensor, x: &Tensor) -> Tensor {
    let h = linear(x, w1, b1).tanh();
    linear(&h, w2, b2)
}

/// A scalar function of a vector with a matmul: `0.5 xᵀMx + Σ tanh(x)`.
#[hessian(argnums = 0)]
fn quad(x: &Tensor, m: &Tensor) -> Tensor {
    x.matmul(m).matmul(x) * 0.5 + x.tanh().sum()
}

/// One benchmark: a name, the result's element count, and the call.
pub struct Workload {
    pub name: &'static str,
    /// What the call computes, for humans.
    pub what: &'static str,
    /// The result's shape (the floor is the time to write this many f32s).
    pub out_shape: Vec<usize>,
    pub run: Box<dyn Fn() -> Tensor>,
}

impl Workload {
    fn new(
        name: &'static str,
        what: &'static str,
        out_shape: &[usize],
        run: impl Fn() -> Tensor + 'static,
    ) -> Self {
        Workload {
            name,
            what,
            out_shape: out_shape.to_vec(),
            run: Box::new(run),
        }
    }

    pub fn out_numel(&self) -> usize {
        self.out_shape.iter().product()
    }
}

/// A standard-normal tensor from a fixed seed, on `dev`.
fn randn_on(shape: &[usize], seed: u64, dev: Device) -> Tensor {
    Tensor::randn(shape, seed)
        .to_device(dev)
        .unwrap_or_else(|e| panic!("benchmark inputs on {dev}: {e}"))
}

/// Weight `[dout, din]`, bias `[dout]`, input `x_shape`, from fixed seeds.
fn linear_inputs(
    dout: usize,
    din: usize,
    x_shape: &[usize],
    dev: Device,
) -> (Tensor, Tensor, Tensor) {
    (
        randn_on(&[dout, din], 1, dev),
        randn_on(&[dout], 2, dev),
        randn_on(x_shape, 3, dev),
    )
}

fn jacrev_workload(name: &'static str, din: usize, dout: usize, dev: Device) -> Workload {
    let (w, b, x) = linear_inputs(dout, din, &[din], dev);
    Workload::new(
        name,
        "jacrev(predict, argnums=2)",
        &[dout, din],
        move || predict_jacrev(&w, &b, &x),
    )
}

fn jacfwd_workload(name: &'static str, din: usize, dout: usize, dev: Device) -> Workload {
    let (w, b, x) = linear_inputs(dout, din, &[din], dev);
    Workload::new(
        name,
        "jacfwd(predict, argnums=2)",
        &[dout, din],
        move || predict_jacfwd(&w, &b, &x),
    )
}

fn batch_jacrev_workload(
    name: &'static str,
    batch: usize,
    din: usize,
    dout: usize,
    dev: Device,
) -> Workload {
    let (w, b, x) = linear_inputs(dout, din, &[batch, din], dev);
    Workload::new(
        name,
        "vmap(jacrev(predict, argnums=2), in_dims=(None, None, 0))",
        &[batch, dout, din],
        move || predict_batch_jacrev(&w, &b, &x),
    )
}

/// Every workload, in table order, on the CPU.
#[allow(dead_code)]
pub fn all() -> Vec<Workload> {
    all_on(Device::Cpu)
}

/// Every workload, in table order, with its inputs on `dev`.
pub fn all_on(dev: Device) -> Vec<Workload> {
    let mut out = vec![
        jacrev_workload("w1_jacrev_16x16", 16, 16, dev),
        jacfwd_workload("w2_jacfwd_32to2048", 32, 2048, dev),
        jacrev_workload("w2_jacrev_32to2048", 32, 2048, dev),
        jacfwd_workload("w3_jacfwd_2048to32", 2048, 32, dev),
        jacrev_workload("w3_jacrev_2048to32", 2048, 32, dev),
    ];
    {
        let (din, dout) = (512, 32);
        let (w, b, x) = linear_inputs(dout, din, &[din], dev);
        out.push(Workload::new(
            "w4_hessian_512to32",
            "hessian(predict, argnums=2)",
            &[dout, din, din],
            move || predict_hessian(&w, &b, &x),
        ));
    }
    out.push(batch_jacrev_workload(
        "w5_vmap_jacrev_b64_31to33",
        64,
        31,
        33,
        dev,
    ));
    {
        let (batch, din, dout) = (64, 31, 33);
        let (w, b, x) = linear_inputs(dout, din, &[batch, din], dev);
        out.push(Workload::new(
            "w6_vmap_hessian_b64_31to33",
            "vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))",
            &[batch, dout, din, din],
            move || predict_batch_hessian(&w, &b, &x),
        ));
    }
    out.push(batch_jacrev_workload(
        "w7_vmap_jacrev_b1024_256to256",
        1024,
        256,
        256,
        dev,
    ));
    {
        let (batch, din, hidden, dout) = (64, 32, 64, 16);
        let (w1, b1) = (
            randn_on(&[hidden, din], 4, dev),
            randn_on(&[hidden], 5, dev),
        );
        let (w2, b2) = (randn_on(&[dout, hidden], 6, dev), randn_on(&[dout], 7, dev));
        let x = randn_on(&[batch, din], 8, dev);
        out.push(Workload::new(
            "mlp_vmap_jacrev_b64_32to64to16",
            "vmap(jacrev(mlp, argnums=4)), x [64, 32] -> tanh(linear 32->64) -> linear 64->16",
            &[batch, dout, din],
            move || mlp_batch_jacrev(&w1, &b1, &w2, &b2, &x),
        ));
    }
    {
        let n = 256;
        let (x, m) = (randn_on(&[n], 9, dev), randn_on(&[n, n], 10, dev));
        out.push(Workload::new(
            "quad_hessian_256",
            "hessian(0.5 x.M.x + sum(tanh x)), x [256]",
            &[n, n],
            move || quad_hessian(&x, &m),
        ));
    }
    out
}

/// The sizes that fill a large GPU (the CUDA issue's item 5): W5- and
/// W6-style batch Jacobians and Hessians over a batch of 65,536, and a
/// 4096 -> 4096 Jacobian both ways, with inputs on `dev`.
#[allow(dead_code)]
pub fn large_on(dev: Device) -> Vec<Workload> {
    let mut out = vec![batch_jacrev_workload(
        "w5_vmap_jacrev_b65536_31to33",
        65536,
        31,
        33,
        dev,
    )];
    {
        let (batch, din, dout) = (65536, 31, 33);
        let (w, b, x) = linear_inputs(dout, din, &[batch, din], dev);
        out.push(Workload::new(
            "w6_vmap_hessian_b65536_31to33",
            "vmap(hessian(predict, argnums=2), in_dims=(None, None, 0))",
            &[batch, dout, din, din],
            move || predict_batch_hessian(&w, &b, &x),
        ));
    }
    out.push(jacrev_workload("jac_jacrev_4096to4096", 4096, 4096, dev));
    out.push(jacfwd_workload("jac_jacfwd_4096to4096", 4096, 4096, dev));
    out
}
