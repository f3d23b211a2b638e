//! Per-sample gradients of a small MLP, the `torch.func` recipe
//! `vmap(grad(loss), in_dims=(None, None, None, None, 0, 0))`: the parameters
//! are shared, each (x, y) pair of the batch is mapped, and the result holds
//! one gradient per sample. Checked against a loop of `grad` calls (one per
//! sample) and against the call-site `transform!` form; both ways are timed.
//!
//! Run: `cargo run --release --example mlp_per_sample_grads`

use std::time::{Duration, Instant};

use transforms::prelude::*;

/// A hidden layer: tanh(x Wᵀ + b). Differentiable, so transformed functions
/// (and `transform!`) may call it.
#[differentiable]
fn dense_tanh(x: &Tensor, w: &Tensor, b: &Tensor) -> Tensor {
    linear(x, w, b).tanh()
}

/// The squared error of a two-layer MLP on one sample (x, y).
///
/// * `loss_grad` gives the gradients of the four parameters for one sample;
/// * `per_sample_grads` maps that over dim 0 of `x` and `y` (the parameters
///   are shared: `None`), giving one gradient per sample, stacked.
#[differentiable]
#[grad(argnums = (0, 1, 2, 3))]
#[vmap(
    grad(argnums = (0, 1, 2, 3)),
    in_dims = (None, None, None, None, 0, 0),
    name = per_sample_grads
)]
fn loss(w1: &Tensor, b1: &Tensor, w2: &Tensor, b2: &Tensor, x: &Tensor, y: &Tensor) -> Tensor {
    let h = dense_tanh(x, w1, b1);
    let out = linear(&h, w2, b2);
    (out - y).square().mean()
}

/// Median wall time of `run` over repeated calls (at least 5, up to 200 or ~0.5 s).
fn median_time(mut run: impl FnMut()) -> Duration {
    run();
    let mut times = Vec::new();
    let start = Instant::now();
    while times.len() < 5 || (times.len() < 200 && start.elapsed() < Duration::from_millis(500)) {
        let t = Instant::now();
        run();
        times.push(t.elapsed());
    }
    times.sort();
    times[times.len() / 2]
}

type Grads = (Tensor, Tensor, Tensor, Tensor);

/// The per-sample gradients by a loop of `grad` calls, stacked over dim 0.
fn loop_of_grads(params: &Grads, xs: &Tensor, ys: &Tensor) -> Grads {
    let (w1, b1, w2, b2) = params;
    let per: Vec<Grads> = (0..xs.shape()[0])
        .map(|i| loss_grad(w1, b1, w2, b2, &xs.select(0, i), &ys.select(0, i)))
        .collect();
    let stack = |pick: fn(&Grads) -> &Tensor| {
        let parts: Vec<Tensor> = per.iter().map(|g| pick(g).clone()).collect();
        Tensor::stack(&parts, 0)
    };
    (
        stack(|g| &g.0),
        stack(|g| &g.1),
        stack(|g| &g.2),
        stack(|g| &g.3),
    )
}

/// The largest absolute difference over the four gradients.
fn max_abs_diff(a: &Grads, b: &Grads) -> f64 {
    let names = ["w1", "b1", "w2", "b2"];
    let pairs = [(&a.0, &b.0), (&a.1, &b.1), (&a.2, &b.2), (&a.3, &b.3)];
    names
        .iter()
        .zip(pairs)
        .map(|(name, (x, y))| {
            assert_eq!(x.shape(), y.shape(), "gradient of {name}: shapes differ");
            x.max_abs_diff(y)
        })
        .fold(0.0, f64::max)
}

fn main() {
    let (batch, d_in, hidden, d_out) = (64, 16, 32, 4);
    let params: Grads = (
        Tensor::randn(&[hidden, d_in], 0) * (1.0 / (d_in as f32).sqrt()),
        Tensor::randn(&[hidden], 1) * 0.1,
        Tensor::randn(&[d_out, hidden], 2) * (1.0 / (hidden as f32).sqrt()),
        Tensor::randn(&[d_out], 3) * 0.1,
    );
    let (w1, b1, w2, b2) = &params;
    let xs = Tensor::randn(&[batch, d_in], 4);
    let ys = Tensor::randn(&[batch, d_out], 5);
    println!("MLP {d_in} -> {hidden} (tanh) -> {d_out}, batch of {batch} samples, f32");

    // One call: every sample's gradient at once.
    let batched = per_sample_grads(w1, b1, w2, b2, &xs, &ys);
    println!(
        "vmap(grad) gradient shapes: w1 {:?}, b1 {:?}, w2 {:?}, b2 {:?}",
        batched.0.shape(),
        batched.1.shape(),
        batched.2.shape(),
        batched.3.shape()
    );
    assert_eq!(batched.0.shape(), &[batch, hidden, d_in]);
    assert_eq!(batched.3.shape(), &[batch, d_out]);

    // The same by a loop of per-sample `grad` calls.
    let looped = loop_of_grads(&params, &xs, &ys);
    let diff = max_abs_diff(&batched, &looped);
    println!("max |vmap(grad) - loop of grad| = {diff:.2e}");
    assert!(
        diff <= 1e-5,
        "vmap(grad) differs from a loop of grad calls by {diff:e}"
    );

    // The same transform written at the call site.
    let per_sample = transform!(vmap(
        grad(loss, argnums = (0, 1, 2, 3)),
        in_dims = (None, None, None, None, 0, 0)
    ));
    let at_call_site = per_sample(w1, b1, w2, b2, &xs, &ys);
    let diff_site = max_abs_diff(&at_call_site, &looped);
    println!("max |transform!(vmap(grad(..))) - loop of grad| = {diff_site:.2e}");
    assert!(
        diff_site <= 1e-5,
        "transform!(vmap(grad(..))) differs from a loop of grad calls by {diff_site:e}"
    );
    let diff_attr = max_abs_diff(&at_call_site, &batched);
    println!("max |transform!(vmap(grad(..))) - #[vmap(grad(..))]| = {diff_attr:.2e}");
    assert!(
        diff_attr <= 1e-6,
        "transform! differs from the attribute by {diff_attr:e}"
    );

    // Timing: the medians of many calls (no assertion on time).
    let t_vmap = median_time(|| drop(per_sample_grads(w1, b1, w2, b2, &xs, &ys)));
    let t_loop = median_time(|| drop(loop_of_grads(&params, &xs, &ys)));
    println!("vmap(grad), one call:    median {t_vmap:?}");
    println!("loop of {batch} grad calls: median {t_loop:?}");
    println!(
        "loop / vmap = {:.2}",
        t_loop.as_secs_f64() / t_vmap.as_secs_f64()
    );
}
