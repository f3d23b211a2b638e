//! The rule and composition checks on every device: each body takes a
//! `Device`, moves its inputs there, calls the generated functions, brings
//! the results back and compares them with closed forms or the CPU run
//! (`test_device!`: a `_cpu` and a `_cuda` test per body; the CUDA one skips
//! where CUDA is unavailable).
//!
//! The bodies call ops the CUDA backend implements: GEMMs, broadcasting
//! binary ops, reductions and their transposes, layout ops, unary ops, the
//! fused elementwise chains (through their CUDA C form) and the symbolic
//! Jacobian bases (in their dense form on a GPU): so the tutorial's
//! `predict` under jacrev, jacfwd, hessian and vmap(jacrev) below; and
//! `narrow`, `index_select`, `cat` and `stack` with their transposes, and
//! the max along a dim behind `softmax` and `logsumexp`, a fused chain
//! with runtime scalars, and a loop and a chunked Jacobian.

mod common;

use common::device::{back, on};
use transforms::prelude::*;
use transforms::{Device, Error};

type T64 = Tensor<f64>;

fn close(a: &T64, b: &T64, tol: f64) {
    assert_eq!(a.shape(), b.shape());
    assert!(
        a.max_abs_diff(b) <= tol,
        "max |a - b| = {}\n{a}\n{b}",
        a.max_abs_diff(b)
    );
}

#[grad(argnums = 1)]
#[vjp(argnums = (0, 1))]
fn affine_sum(x: &Tensor<f64>, w: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    linear(x, w, b).sum()
}

fn grad_of_linear_sum(dev: Device) {
    let (x, w, b) = (
        T64::randn(&[5, 3], 0),
        T64::randn(&[4, 3], 1),
        T64::randn(&[4], 2),
    );
    let g = back(
        &affine_sum_grad(&on(&x, dev), &on(&w, dev), &on(&b, dev)),
        dev,
    );
    // d/dw sum(x w^T + b) = 1^T x, the same row for every output.
    let col = x.sum_dim(0);
    let expected = T64::stack(&[col.clone(), col.clone(), col.clone(), col], 0);
    close(&g, &expected, 1e-12);
}
test_device!(
    grad_of_linear_sum,
    grad_of_linear_sum_cpu,
    grad_of_linear_sum_cuda
);

fn vjp_of_linear_sum(dev: Device) {
    let (x, w, b) = (
        T64::randn(&[2, 3], 3),
        T64::randn(&[4, 3], 4),
        T64::randn(&[4], 5),
    );
    let (out, pullback) = affine_sum_vjp(&on(&x, dev), &on(&w, dev), &on(&b, dev));
    close(&back(&out, dev), &affine_sum(&x, &w, &b), 1e-12);
    let (gx, gw) = pullback.call(&on(&T64::scalar(2.0), dev));
    // d/dx = 2 * (sum of the rows of w), per row of x.
    let wsum = w.sum_dim(0) * 2.0;
    close(
        &back(&gx, dev),
        &T64::stack(&[wsum.clone(), wsum], 0),
        1e-12,
    );
    close(&back(&gw, dev), &(affine_sum_grad(&x, &w, &b) * 2.0), 1e-12);
}
test_device!(
    vjp_of_linear_sum,
    vjp_of_linear_sum_cpu,
    vjp_of_linear_sum_cuda
);

#[jvp(argnums = 1)]
#[vmap(in_dims = (0, None))]
fn bilinear(x: &Tensor<f64>, m: &Tensor<f64>) -> Tensor<f64> {
    x.matmul(m).matmul(x)
}

fn jvp_of_a_quadratic_form(dev: Device) {
    let (x, m, t) = (
        T64::randn(&[3], 6),
        T64::randn(&[3, 3], 7),
        T64::randn(&[3, 3], 8),
    );
    let (out, tan) = bilinear_jvp(&on(&x, dev), &on(&m, dev), &on(&t, dev));
    close(&back(&out, dev), &bilinear(&x, &m), 1e-12);
    // Linear in m: the tangent is the form of the tangent.
    close(&back(&tan, dev), &bilinear(&x, &t), 1e-12);
}
test_device!(
    jvp_of_a_quadratic_form,
    jvp_of_a_quadratic_form_cpu,
    jvp_of_a_quadratic_form_cuda
);

fn vmap_of_a_quadratic_form(dev: Device) {
    let (xs, m) = (T64::randn(&[4, 3], 9), T64::randn(&[3, 3], 10));
    let got = back(&bilinear_vmap(&on(&xs, dev), &on(&m, dev)), dev);
    let looped: Vec<T64> = xs.unbind(0).iter().map(|x| bilinear(x, &m)).collect();
    close(&got, &T64::stack(&looped, 0), 1e-12);
}
test_device!(
    vmap_of_a_quadratic_form,
    vmap_of_a_quadratic_form_cpu,
    vmap_of_a_quadratic_form_cuda
);

fn unary_ops_match_the_cpu(dev: Device) {
    let x = T64::randn(&[2, 5], 11);
    let p = x.abs() + 0.5;
    let xd = on(&x, dev);
    let pd = on(&p, dev);
    let pairs: [(T64, T64); 8] = [
        (x.tanh(), xd.tanh()),
        (x.sigmoid(), xd.sigmoid()),
        (x.relu(), xd.relu()),
        (p.ln(), pd.ln()),
        (p.sqrt(), pd.sqrt()),
        (x.clamp(-0.5, 0.5), xd.clamp(-0.5, 0.5)),
        (p.powf(1.5), pd.powf(1.5)),
        (2.0 - &x, 2.0 - &xd),
    ];
    for (cpu, other) in &pairs {
        close(&back(other, dev), cpu, 1e-12);
    }
    close(
        &back(&maximum(&xd, &pd.t().t()), dev),
        &maximum(&x, &p),
        0.0,
    );
    close(&back(&xd.sum_dim(-1), dev), &x.sum_dim(-1), 1e-12);
    close(&back(&xd.mean(), dev), &x.mean(), 1e-12);
    close(&back(&xd.t(), dev), &x.t(), 0.0);
    close(&back(&xd.select(1, 3), dev), &x.select(1, 3), 0.0);
}
test_device!(
    unary_ops_match_the_cpu,
    unary_ops_match_the_cpu_cpu,
    unary_ops_match_the_cpu_cuda
);

#[test]
fn to_cpu_is_the_identity() {
    let x = T64::randn(&[2, 3], 12);
    let y = x.to_device(Device::Cpu).unwrap();
    assert_eq!(y.device(), Device::Cpu);
    assert_eq!(y.to_vec(), x.to_vec());
}

#[test]
fn cuda_unavailable_is_an_error_not_a_panic() {
    let x = T64::randn(&[2], 13);
    match x.to_device(Device::Cuda(0)) {
        Ok(y) => assert_eq!(y.device(), Device::Cuda(0)),
        Err(e) => {
            let Error::CudaUnavailable { reason } = &e else {
                panic!("unexpected error {e:?}");
            };
            assert!(
                e.to_string()
                    .starts_with("transforms: CUDA is unavailable: ")
            );
            if cfg!(feature = "cuda") {
                assert!(!reason.contains("without the `cuda` feature"), "{reason}");
            } else {
                assert_eq!(reason, "transforms was built without the `cuda` feature");
            }
        }
    }
    // A device that does not exist is never available.
    assert!(matches!(
        x.to_device(Device::Cuda(1 << 20)),
        Err(Error::CudaUnavailable { .. })
    ));
}

/// The tutorial's model, every Jacobian and Hessian of it.
#[jacrev(argnums = 2)]
#[jacfwd(argnums = 2)]
#[hessian(argnums = 2)]
#[vmap(jacrev(argnums = 2), in_dims = (None, None, 0), name = predict_batch_jacrev)]
fn predict(w: &Tensor<f64>, b: &Tensor<f64>, x: &Tensor<f64>) -> Tensor<f64> {
    linear(x, w, b).tanh()
}

fn jacobians_and_hessian_of_predict(dev: Device) {
    let (w, b, x) = (
        T64::randn(&[6, 5], 20),
        T64::randn(&[6], 21),
        T64::randn(&[5], 22),
    );
    let xs = T64::randn(&[4, 5], 23);
    let (wd, bd, xd) = (on(&w, dev), on(&b, dev), on(&x, dev));
    // Closed forms: J = diag(1 - y^2) W, H[o] = -2 y_o (1 - y_o^2) w_o w_o^T.
    let y = predict(&w, &b, &x);
    let d1 = y.clone() * y.clone() * -1.0 + 1.0;
    let jac = w.clone() * d1.unsqueeze(1);
    close(&back(&predict_jacrev(&wd, &bd, &xd), dev), &jac, 1e-12);
    close(&back(&predict_jacfwd(&wd, &bd, &xd), dev), &jac, 1e-12);
    let d2 = (y * d1 * -2.0).unsqueeze(1).unsqueeze(2);
    let outer = w.unsqueeze(2) * w.unsqueeze(1);
    close(
        &back(&predict_hessian(&wd, &bd, &xd), dev),
        &(outer * d2),
        1e-12,
    );
    // vmap(jacrev) against the per-example Jacobians on the CPU.
    let batch = back(&predict_batch_jacrev(&wd, &bd, &on(&xs, dev)), dev);
    for i in 0..4 {
        let xi = xs.narrow(0, i, 1).reshape(&[5]);
        let ji = predict_jacrev(&w, &b, &xi);
        close(&batch.narrow(0, i, 1).reshape(&[6, 5]), &ji, 1e-12);
    }
}
test_device!(
    jacobians_and_hessian_of_predict,
    jacobians_and_hessian_of_predict_cpu,
    jacobians_and_hessian_of_predict_cuda
);

/// Slices, selections and concatenation, whose reverse mode pads, scatters
/// with a repeated index and cuts the concatenation apart.
#[jacrev(argnums = 0)]
#[vmap(jacrev(argnums = 0), in_dims = (0,), name = slicing_batch_jacrev)]
fn slicing(x: &Tensor<f64>) -> Tensor<f64> {
    let kept = x.narrow(-1, 1, 3);
    let picked = x.index_select(-1, &[4, 0, 4]).tanh();
    cat(&[&kept, &picked], -1) * 2.0
}

fn slices_and_their_transposes(dev: Device) {
    let x = T64::randn(&[5], 40);
    let xs = T64::randn(&[3, 5], 41);
    let y = back(&slicing(&on(&x, dev)), dev);
    close(&y, &slicing(&x), 1e-12);
    // stack (a concatenation of unsqueezed tensors on a GPU).
    for d in [0, 1, -1] {
        let (a, b) = (on(&x, dev), on(&(x.clone() * 2.0), dev));
        let st = back(&T64::stack(&[a, b], d), dev);
        close(&st, &T64::stack(&[x.clone(), x.clone() * 2.0], d), 0.0);
    }
    // Closed form: rows 0..3 pick x[1..4]; rows 3..6 are tanh' at x[4], x[0], x[4].
    let xv = x.to_vec();
    let mut jac = vec![0.0; 6 * 5];
    for r in 0..3 {
        jac[r * 5 + r + 1] = 2.0;
    }
    for (r, j) in [(3, 4), (4, 0), (5, 4)] {
        jac[r * 5 + j] = 2.0 * (1.0 - xv[j].tanh().powi(2));
    }
    let jac = T64::from_shape_vec(&[6, 5], jac).unwrap();
    close(&back(&slicing_jacrev(&on(&x, dev)), dev), &jac, 1e-12);
    // Batched: the blocks have an outer dim.
    let batch = back(&slicing_batch_jacrev(&on(&xs, dev)), dev);
    for i in 0..3 {
        let xi = xs.narrow(0, i, 1).reshape(&[5]);
        close(
            &batch.narrow(0, i, 1).reshape(&[6, 5]),
            &slicing_jacrev(&xi),
            1e-12,
        );
    }
}
test_device!(
    slices_and_their_transposes,
    slices_and_their_transposes_cpu,
    slices_and_their_transposes_cuda
);

/// softmax and logsumexp: a max along a dim (the shift), its exponentials
/// and sums, under jacrev.
#[jacrev(argnums = 0)]
fn softmax_mix(x: &Tensor<f64>) -> Tensor<f64> {
    x.softmax(-1) * x.logsumexp(0).unsqueeze(0) + x.max_dim(1).unsqueeze(1)
}

fn softmax_on_every_device(dev: Device) {
    let x = T64::randn(&[3, 4], 50) * 3.0;
    close(
        &back(&softmax_mix(&on(&x, dev)), dev),
        &softmax_mix(&x),
        1e-12,
    );
    let j = back(&softmax_mix_jacrev(&on(&x, dev)), dev);
    close(&j, &softmax_mix_jacrev(&x), 1e-12);
    // Each softmax row sums to 1 (the max shift changes nothing).
    let rows = back(&on(&x, dev).softmax(-1).sum_dim(1), dev);
    close(
        &rows,
        &T64::from_shape_vec(&[3], vec![1.0; 3]).unwrap(),
        1e-12,
    );
}
test_device!(
    softmax_on_every_device,
    softmax_on_every_device_cpu,
    softmax_on_every_device_cuda
);

/// A fused chain with runtime scalars (kernel arguments on a GPU).
#[jacrev(argnums = 0)]
fn scalar_chain(x: &Tensor<f64>, c: f64, p: f64) -> Tensor<f64> {
    ((x * c).tanh() + 2.0).powf(p) * c
}

fn runtime_scalars_in_chains(dev: Device) {
    let x = T64::randn(&[2, 3], 60);
    let (c, p) = (0.7, 1.5);
    let y = back(&scalar_chain(&on(&x, dev), c, p), dev);
    close(&y, &scalar_chain(&x, c, p), 1e-12);
    // d/dx = c * p * (tanh(cx) + 2)^(p-1) * c * (1 - tanh(cx)^2), diagonal.
    let xv = x.to_vec();
    let mut jac = vec![0.0; 36];
    for (i, &v) in xv.iter().enumerate() {
        let t = (c * v).tanh();
        jac[i * 6 + i] = c * p * (t + 2.0).powf(p - 1.0) * c * (1.0 - t * t);
    }
    let jac = T64::from_shape_vec(&[2, 3, 2, 3], jac).unwrap();
    close(
        &back(&scalar_chain_jacrev(&on(&x, dev), c, p), dev),
        &jac,
        1e-12,
    );
}
test_device!(
    runtime_scalars_in_chains,
    runtime_scalars_in_chains_cpu,
    runtime_scalars_in_chains_cuda
);

/// A loop (its stacks of per-iteration values) and a chunked Jacobian (its
/// basis rows and concatenated pieces).
#[jacrev(argnums = 0)]
#[jacrev(argnums = 0, chunk_size = 2, name = integrate_jacrev_c2)]
#[vmap(jacrev(argnums = 0), in_dims = (0, None, None), name = integrate_batch_jacrev)]
fn integrate(x0: &Tensor<f64>, w: &Tensor<f64>, n: usize) -> Tensor<f64> {
    let mut x = x0.clone();
    for i in 0..n {
        x = &x + matmul(w, &x).tanh() * (0.1 * (i + 1) as f64);
    }
    x
}

fn loops_and_chunks(dev: Device) {
    let (x, w) = (T64::randn(&[3], 70), T64::randn(&[3, 3], 71) * 0.5);
    let xs = T64::randn(&[2, 3], 72);
    let (xd, wd) = (on(&x, dev), on(&w, dev));
    for n in [0, 1, 4] {
        close(
            &back(&integrate(&xd, &wd, n), dev),
            &integrate(&x, &w, n),
            1e-12,
        );
        let j = integrate_jacrev(&x, &w, n);
        close(&back(&integrate_jacrev(&xd, &wd, n), dev), &j, 1e-12);
        close(&back(&integrate_jacrev_c2(&xd, &wd, n), dev), &j, 1e-12);
        let jb = back(&integrate_batch_jacrev(&on(&xs, dev), &wd, n), dev);
        for i in 0..2 {
            let xi = xs.narrow(0, i, 1).reshape(&[3]);
            close(
                &jb.narrow(0, i, 1).reshape(&[3, 3]),
                &integrate_jacrev(&xi, &w, n),
                1e-12,
            );
        }
    }
    // The Jacobian of the loop against finite differences (on the CPU).
    let (n, eps) = (4, 1e-6);
    let j = integrate_jacrev(&x, &w, n).to_vec();
    for k in 0..3 {
        let mut d = vec![0.0; 3];
        d[k] = eps;
        let dt = T64::from_shape_vec(&[3], d).unwrap();
        let (p, m) = (
            integrate(&(x.clone() + dt.clone()), &w, n),
            integrate(&(x.clone() - dt), &w, n),
        );
        for r in 0..3 {
            let fd = (p.to_vec()[r] - m.to_vec()[r]) / (2.0 * eps);
            assert!(
                (fd - j[r * 3 + k]).abs() < 1e-6,
                "d out {r} / d in {k}: {fd} vs {}",
                j[r * 3 + k]
            );
        }
    }
}
test_device!(
    loops_and_chunks,
    loops_and_chunks_cpu,
    loops_and_chunks_cuda
);

/// The runtime's strided kernels and batched products against the CPU:
/// broadcasting with few dims (the 32-bit index, passed by value) and with
/// eight that do not coalesce (the 64-bit form), transposed copies, sums
/// that take a block per output and a thread per output, and batched
/// matrix products that fold into one GEMM, walk the batch with one stride
/// (size-1 batch dims included), or neither.
fn strided_kernels_and_batched_products(dev: Device) {
    let pairs: [(&[usize], &[usize]); 4] = [
        (&[8, 5, 1], &[5, 7]),
        (&[2, 1, 2, 1, 2, 1, 2, 3], &[1, 3, 1, 2, 1, 2, 1, 3]),
        (&[300, 1], &[300, 7]),
        (&[], &[4, 2]),
    ];
    for (k, (sa, sb)) in pairs.into_iter().enumerate() {
        let (a, b) = (T64::randn(sa, 10 + k as u64), T64::randn(sb, 20 + k as u64));
        let (da, db) = (on(&a, dev), on(&b, dev));
        close(&back(&(&da * &db), dev), &(&a * &b), 1e-15);
        close(&back(&(&da - &db), dev), &(&a - &b), 1e-15);
    }
    let x = T64::randn(&[300, 7], 30);
    let dx = on(&x, dev);
    close(&back(&dx.t(), dev), &x.t(), 0.0);
    close(&back(&dx.sum_dim(0), dev), &x.sum_dim(0), 1e-12);
    close(&back(&dx.sum_dim(1), dev), &x.sum_dim(1), 1e-12);
    close(&back(&dx.sum(), dev), &x.sum(), 1e-11);
    let big = T64::randn(&[70_000], 31);
    close(&back(&on(&big, dev).sum(), dev), &big.sum(), 1e-9);
    let products: [(&[usize], &[usize]); 5] = [
        (&[4, 3, 1, 5], &[5, 6]),
        (&[4, 3, 2, 5], &[5, 6]),
        (&[6, 1, 2, 5], &[6, 1, 5, 3]),
        (&[4, 3, 2, 5], &[4, 1, 5, 3]),
        (&[256, 1, 1, 8], &[8, 8]),
    ];
    for (k, (sa, sb)) in products.into_iter().enumerate() {
        let (a, b) = (T64::randn(sa, 40 + k as u64), T64::randn(sb, 50 + k as u64));
        let got = back(&on(&a, dev).matmul(&on(&b, dev)), dev);
        close(&got, &a.matmul(&b), 1e-12);
    }
}
test_device!(
    strided_kernels_and_batched_products,
    strided_kernels_and_batched_products_cpu,
    strided_kernels_and_batched_products_cuda
);
