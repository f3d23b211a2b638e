//! The functorch tutorial "Jacobians, Hessians, hvp, vhp, and more:
//! composing function transforms", ported cell by cell. Every derivative
//! below is computed by code the attribute macros generated at compile time.
//!
//! Run: `cargo run --release --example jacobians_hessians`

use std::time::{Duration, Instant};

use transforms::prelude::*;

// The tutorial's model: a linear layer with a tanh activation.
#[vjp(argnums = 2)]
#[jacrev(argnums = 2)]
#[jacrev(argnums = (0, 1), name = predict_jacrev_params)]
#[jacfwd(argnums = 2)]
#[hessian(argnums = 2)]
#[jacfwd(jacfwd(argnums = 2), argnums = 2, name = hess_fwdfwd)]
#[jacrev(jacrev(argnums = 2), argnums = 2, name = hess_revrev)]
#[jacfwd(jacrev(argnums = 2), argnums = 2, name = hess_fwdrev)]
#[vmap(jacrev(argnums = 2), in_dims = (None, None, 0), name = batch_jacobian)]
#[vmap(hessian(argnums = 2), in_dims = (None, None, 0), name = batch_hessian)]
fn predict(weight: &Tensor, bias: &Tensor, x: &Tensor) -> Tensor {
    linear(x, weight, bias).tanh()
}

// The "sum trick": summing over the batch gives the batch Jacobian in one jacrev.
#[jacrev(argnums = 2)]
fn predict_with_output_summed(weight: &Tensor, bias: &Tensor, x: &Tensor) -> Tensor {
    linear(x, weight, bias).tanh().sum_dim(0)
}

// Hessian-vector products: jvp of grad.
#[jvp(grad, name = hvp)]
#[hessian]
fn f(x: &Tensor) -> Tensor {
    x.sin().sum()
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

fn perf(first: Duration, first_name: &str, second: Duration, second_name: &str) {
    let (a, b) = (first.as_secs_f64(), second.as_secs_f64());
    if a < b {
        println!(
            " Performance delta: {:.4} percent improvement with {first_name} ",
            (b - a) / b * 100.0
        );
    } else {
        println!(
            " Performance delta: {:.4} percent improvement with {second_name} ",
            (a - b) / a * 100.0
        );
    }
}

fn assert_close(what: &str, a: &Tensor, b: &Tensor, tol: f64) {
    assert_eq!(a.shape(), b.shape(), "{what}: shapes differ");
    assert!(
        a.allclose(b, tol, tol),
        "{what}: max abs diff {:e}",
        a.max_abs_diff(b)
    );
    println!("{what}: allclose (max abs diff {:.2e})", a.max_abs_diff(b));
}

fn main() {
    let total = Instant::now();

    println!("== Computing the Jacobian");
    let d = 16;
    let (weight, bias, x) = (
        Tensor::randn(&[d, d], 0),
        Tensor::randn(&[d], 1),
        Tensor::randn(&[d], 2),
    );
    let (_, vjp_fn) = predict_vjp(&weight, &bias, &x);
    let unit_vectors = Tensor::eye(d);
    let jacobian_rows: Vec<Tensor> = unit_vectors
        .unbind(0)
        .iter()
        .map(|v| vjp_fn.call(v))
        .collect();
    let jacobian = Tensor::stack(&jacobian_rows, 0);
    println!(
        "jacobian (row by row from the pullback): shape {:?}",
        jacobian.shape()
    );
    println!("jacobian[0] = {}", jacobian.select(0, 0));
    let ft_jacobian = vjp_fn.vmap(&unit_vectors);
    assert_close(
        "pullback.vmap(unit_vectors) == row by row",
        &ft_jacobian,
        &jacobian,
        1e-6,
    );
    let ft_jacobian = predict_jacrev(&weight, &bias, &x);
    assert_close(
        "jacrev(predict, argnums=2) == row by row",
        &ft_jacobian,
        &jacobian,
        1e-6,
    );

    println!("\n== jacrev with argnums = (0, 1)");
    let (ft_jac_weight, ft_jac_bias) = predict_jacrev_params(&weight, &bias, &x);
    println!(
        "weight Jacobian shape {:?}, bias Jacobian shape {:?}",
        ft_jac_weight.shape(),
        ft_jac_bias.shape()
    );
    // The bias Jacobian of tanh(W x + b) is diag(1 - y^2).
    let y = predict(&weight, &bias, &x).to_vec();
    let diag: Vec<f32> = (0..d * d)
        .map(|k| {
            if k / d == k % d {
                1.0 - y[k / d] * y[k / d]
            } else {
                0.0
            }
        })
        .collect();
    assert_close(
        "bias Jacobian == diag(1 - y^2)",
        &ft_jac_bias,
        &Tensor::from_shape_vec(&[d, d], diag).unwrap(),
        1e-6,
    );

    println!("\n== Reverse mode vs forward mode");
    for (din, dout) in [(32, 2048), (2048, 32)] {
        let weight = Tensor::randn(&[dout, din], 3);
        let bias = Tensor::randn(&[dout], 4);
        let x = Tensor::randn(&[din], 5);
        let jf = predict_jacfwd(&weight, &bias, &x);
        let jr = predict_jacrev(&weight, &bias, &x);
        println!(
            "Din = {din}, Dout = {dout}: Jacobian shape {:?}",
            jf.shape()
        );
        assert_close("jacfwd == jacrev", &jf, &jr, 1e-5);
        let t_fwd = median_time(|| drop(predict_jacfwd(&weight, &bias, &x)));
        let t_rev = median_time(|| drop(predict_jacrev(&weight, &bias, &x)));
        println!("jacfwd time: {t_fwd:?}");
        println!("jacrev time: {t_rev:?}");
        perf(t_fwd, "jacfwd", t_rev, "jacrev");
    }

    println!("\n== Hessian computation");
    let (din, dout) = (512, 32);
    let weight = Tensor::randn(&[dout, din], 6);
    let bias = Tensor::randn(&[dout], 7);
    let x = Tensor::randn(&[din], 8);
    let hess_api = predict_hessian(&weight, &bias, &x);
    let hess_ff = hess_fwdfwd(&weight, &bias, &x);
    let hess_rr = hess_revrev(&weight, &bias, &x);
    println!("hessian shape {:?}", hess_api.shape());
    assert_close("hessian == jacfwd(jacfwd)", &hess_api, &hess_ff, 1e-5);
    assert_close("hessian == jacrev(jacrev)", &hess_api, &hess_rr, 1e-5);
    let t_fr = median_time(|| drop(hess_fwdrev(&weight, &bias, &x)));
    let t_ff = median_time(|| drop(hess_fwdfwd(&weight, &bias, &x)));
    println!("jacfwd(jacrev) (= hessian) time: {t_fr:?}");
    println!("jacfwd(jacfwd) time: {t_ff:?}");
    perf(t_fr, "jacfwd(jacrev)", t_ff, "jacfwd(jacfwd)");
    // Reverse-over-reverse pulls a 16384-row basis through the Jacobian: timed once.
    let start = Instant::now();
    drop(hess_revrev(&weight, &bias, &x));
    println!("jacrev(jacrev) time (one run): {:?}", start.elapsed());

    println!("\n== Batch Jacobian and batch Hessian");
    let (batch_size, din, dout) = (64, 31, 33);
    let weight = Tensor::randn(&[dout, din], 9);
    let bias = Tensor::randn(&[dout], 10);
    let x = Tensor::randn(&[batch_size, din], 11);
    let batch_jac0 = batch_jacobian(&weight, &bias, &x);
    println!("vmap(jacrev) shape {:?}", batch_jac0.shape());
    let batch_jac1 = predict_with_output_summed_jacrev(&weight, &bias, &x).movedim(1, 0);
    assert_close(
        "vmap(jacrev) == jacrev of the summed output",
        &batch_jac0,
        &batch_jac1,
        1e-6,
    );
    let batch_hess = batch_hessian(&weight, &bias, &x);
    println!("vmap(hessian) shape {:?}", batch_hess.shape());
    assert_eq!(batch_hess.shape(), &[64, 33, 31, 31]);
    let first = predict_hessian(&weight, &bias, &x.select(0, 0));
    assert_close(
        "batch_hessian[0] == hessian(x[0])",
        &batch_hess.select(0, 0),
        &first,
        1e-5,
    );

    println!("\n== Hessian-vector products");
    let x = Tensor::randn(&[2048], 12);
    let tangent = Tensor::randn(&[2048], 13);
    let (_, hv) = hvp(&x, &tangent);
    // For sum(sin(x)) the Hessian is diag(-sin(x)).
    let closed: Vec<f32> = x
        .to_vec()
        .iter()
        .zip(tangent.to_vec())
        .map(|(x, t)| -x.sin() * t)
        .collect();
    assert_close(
        "jvp(grad) == -sin(x) * v",
        &hv,
        &Tensor::from_shape_vec(&[2048], closed).unwrap(),
        1e-5,
    );
    let small = Tensor::randn(&[64], 14);
    let v = Tensor::randn(&[64], 15);
    let h = f_hessian(&small);
    assert_close(
        "jvp(grad) == hessian @ v",
        &hvp(&small, &v).1,
        &h.matmul(&v),
        1e-5,
    );

    println!("\nall cells done in {:.2?}", total.elapsed());
}
