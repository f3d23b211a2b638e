//! The rule table for the reductions and their composites (f64):
//! `softmax`, `log_softmax`, `logsumexp` (shifted by the max along the dim,
//! which carries no derivative), `norm` and `max_dim`, with positive and
//! negative dims; then closed forms: the softmax Jacobian
//! `p_i (δ_ij − p_j)`, log_softmax rows whose exps sum to 1, the logsumexp
//! gradient equal to softmax and finite at inputs like 1000, the norm
//! gradient `x / |x|`, and max_dim sharing its derivative equally among ties.

mod common;

use common::*;
use transforms::prelude::*;

unary_case!(softmax_last, [3, 4], false, |x| x.softmax(1));
unary_case!(softmax_neg, [2, 3, 4], false, |x| x.softmax(-2) * x);
unary_case!(softmax_first, [3, 4], false, |x| x.softmax(0).sin());
unary_case!(log_softmax, [3, 4], false, |x| x.log_softmax(-1));
unary_case!(log_softmax_first, [3, 4], false, |x| x
    .log_softmax(0)
    .square());
unary_case!(logsumexp, [3, 4], false, |x| x.logsumexp(1));
unary_case!(logsumexp_neg, [2, 3, 4], false, |x| x.logsumexp(-2).tanh());
unary_case!(logsumexp_1d, [5], false, |x| x.logsumexp(0) * x);
unary_case!(norm, [3, 4], false, |x| x.norm());
unary_case!(norm_scaled, [4], false, |x| x / &x.norm());
unary_case!(max_dim, [3, 4], false, |x| x.max_dim(1) * x.max_dim(1));
unary_case!(max_dim_neg, [2, 3, 4], false, |x| x.max_dim(-1).sin());
unary_case!(max_dim_first, [3, 4], false, |x| x.max_dim(0).exp());

binary_case!(softmax_attention, [3, 4], [5, 4], false, |q, k| matmul(
    &q.matmul(&k.t()).softmax(-1),
    k
));
binary_case!(logsumexp_of_sum, [3, 4], [4], false, |a, b| (a + b)
    .logsumexp(-1));

#[jacrev]
#[jacfwd]
fn softmax(x: &Tensor<f64>) -> Tensor<f64> {
    x.softmax(0)
}

#[test]
fn softmax_jacobian_is_diag_p_minus_p_pt() {
    let x = input(&[5], 3, false);
    let p = softmax(&x).to_vec();
    let want: Vec<f64> = (0..5)
        .flat_map(|i| {
            let p = &p;
            (0..5).map(move |j| p[i] * (f64::from(u8::from(i == j)) - p[j]))
        })
        .collect();
    let want = T64::from_shape_vec(&[5, 5], want).unwrap();
    close("softmax jacrev", &softmax_jacrev(&x), &want, 1e-14);
    close("softmax jacfwd", &softmax_jacfwd(&x), &want, 1e-14);
}

#[vmap]
fn log_softmax_rows(x: &Tensor<f64>) -> Tensor<f64> {
    x.log_softmax(-1)
}

#[grad]
#[jacrev]
fn lse(x: &Tensor<f64>) -> Tensor<f64> {
    x.logsumexp(0)
}

#[test]
fn log_softmax_and_logsumexp_in_closed_form() {
    let x = input(&[3, 4], 5, false);
    let rows = log_softmax_rows(&x);
    for r in 0..3 {
        let s: f64 = rows.select(0, r).to_vec().iter().map(|v| v.exp()).sum();
        assert!((s - 1.0).abs() < 1e-14, "row {r} sums to {s}");
    }
    let v = input(&[6], 7, false);
    close(
        "grad logsumexp == softmax",
        &lse_grad(&v),
        &softmax(&v),
        1e-14,
    );
    // Stable where exp overflows: ln(e^1000 + e^1000) = 1000 + ln 2.
    let big = T64::from_shape_vec(&[3], vec![1000.0, 1000.0, -1000.0]).unwrap();
    let y = lse(&big).item();
    assert!((y - (1000.0 + 2f64.ln())).abs() < 1e-12, "{y}");
    assert_eq!(lse_grad(&big).to_vec(), vec![0.5, 0.5, 0.0]);
    assert_eq!(lse_jacrev(&big).to_vec(), vec![0.5, 0.5, 0.0]);
    assert_eq!(softmax(&big).to_vec(), vec![0.5, 0.5, 0.0]);
}

#[grad]
fn norm(x: &Tensor<f64>) -> Tensor<f64> {
    x.norm()
}

#[grad]
#[jacfwd]
fn max_rows(x: &Tensor<f64>) -> Tensor<f64> {
    x.max_dim(-1).sum()
}

#[test]
fn norm_gradient_and_max_dim_ties() {
    let x = input(&[2, 3], 9, false);
    let n = x.to_vec().iter().map(|v| v * v).sum::<f64>().sqrt();
    assert!((norm(&x).item() - n).abs() < 1e-14);
    close("grad norm == x / |x|", &norm_grad(&x), &(&x / n), 1e-14);
    // Ties share the derivative equally (torch amax, JAX max).
    let x = T64::from_shape_vec(&[3, 3], vec![1., 3., 3., 2., 2., 2., 5., 0., 4.]).unwrap();
    assert_eq!(max_rows(&x).item(), 3.0 + 2.0 + 5.0);
    let third = 1.0 / 3.0;
    let want = vec![0.0, 0.5, 0.5, third, third, third, 1.0, 0.0, 0.0];
    close(
        "max_dim grad",
        &max_rows_grad(&x),
        &T64::from_shape_vec(&[3, 3], want.clone()).unwrap(),
        1e-15,
    );
    close(
        "max_dim jacfwd",
        &max_rows_jacfwd(&x),
        &T64::from_shape_vec(&[3, 3], want).unwrap(),
        1e-15,
    );
}
