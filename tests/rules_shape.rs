//! The rule table for the shape vocabulary (f64): `cat`, `stack`,
//! `narrow` and `index_select` (with a repeated index, whose transpose must
//! accumulate), with positive and negative dims; then their Jacobians
//! against a dense construction.

mod common;

use common::*;
use transforms::prelude::*;

unary_case!(narrow, [3, 4], false, |x| x.narrow(1, 1, 2).square());
unary_case!(narrow_neg, [2, 3, 4], false, |x| x.narrow(-2, -2, 2).sin()
    * x.narrow(-2, 0, 2));
unary_case!(index_select, [3, 4], false, |x| x
    .index_select(1, &[2, 0, 2])
    .square());
unary_case!(index_select_neg, [3, 4], false, |x| x
    .index_select(-2, &[1, 1, 0, 2])
    .sin());
unary_case!(cat_self, [3, 2], false, |x| cat(&[x, &x.sin(), x], -1)
    .square());
unary_case!(stack_self, [3], false, |x| stack(&[x, &x.exp()], 0) * x);
unary_case!(stack_neg, [2, 3], false, |x| stack(&[&x.sin(), x], -1)
    .square());

binary_case!(cat_dim0, [3, 4], [2, 4], false, |a, b| cat(&[a, b], 0)
    .sin());
binary_case!(cat_last, [3, 2], [3, 4], false, |a, b| cat(&[b, a, b], -1)
    .square());
binary_case!(stack, [3, 4], [3, 4], false, |a, b| stack(&[a, b], 1)
    .tanh());
binary_case!(cat_of_narrows, [4], [3, 4], false, |a, b| cat(
    &[&a.narrow(0, 1, 2), &b.index_select(1, &[2, 2]).sum_dim(0)],
    0
)
.exp());

/// The dense 0/1 Jacobian `J[k, j] = [src(k) == j]` of a selection.
fn dense(rows: usize, cols: usize, src: impl Fn(usize) -> Option<usize>) -> T64 {
    let mut v = vec![0.0; rows * cols];
    for k in 0..rows {
        if let Some(j) = src(k) {
            v[k * cols + j] = 1.0;
        }
    }
    T64::from_shape_vec(&[rows, cols], v).unwrap()
}

#[jacrev(argnums = (0, 1))]
#[jacfwd(argnums = (0, 1), name = cat2_fwd)]
fn cat2(a: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    cat(&[a, b], 0)
}

#[jacrev(argnums = (0, 1))]
fn stack2(a: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    stack(&[a, b], -1)
}

#[jacrev]
#[jacfwd]
fn narrow(x: &Tensor<f64>) -> Tensor<f64> {
    x.narrow(0, -3, 2)
}

#[jacrev]
#[jacfwd]
#[vjp]
fn pick(x: &Tensor<f64>) -> Tensor<f64> {
    x.index_select(0, &[3, 1, 3, 3])
}

#[test]
fn jacobians_match_dense_constructions() {
    let (a, b) = (input(&[2], 1, false), input(&[3], 2, false));
    let (ja, jb) = cat2_jacrev(&a, &b);
    close("cat d/da", &ja, &dense(5, 2, |k| (k < 2).then_some(k)), 0.0);
    close("cat d/db", &jb, &dense(5, 3, |k| k.checked_sub(2)), 0.0);
    let (fa, fb) = cat2_fwd(&a, &b);
    close("cat jacfwd d/da", &fa, &ja, 0.0);
    close("cat jacfwd d/db", &fb, &jb, 0.0);
    // stack(&[a, b], -1) of [3]s is [3, 2] with out[i, 0] = a[i], out[i, 1] = b[i].
    let b2 = input(&[3], 3, false);
    let (sa, sb) = stack2_jacrev(&b, &b2);
    let want = |which: usize| dense(6, 3, move |k| (k % 2 == which).then_some(k / 2));
    close("stack d/da", &sa.reshape(&[6, 3]), &want(0), 0.0);
    close("stack d/db", &sb.reshape(&[6, 3]), &want(1), 0.0);
    let x = input(&[5], 4, false);
    let want = dense(2, 5, |k| Some(k + 2));
    close("narrow jacrev", &narrow_jacrev(&x), &want, 0.0);
    close("narrow jacfwd", &narrow_jacfwd(&x), &want, 0.0);
    let idx = [3, 1, 3, 3];
    let want = dense(4, 5, |k| Some(idx[k]));
    close("index_select jacrev", &pick_jacrev(&x), &want, 0.0);
    close("index_select jacfwd", &pick_jacfwd(&x), &want, 0.0);
    // The pullback of ones counts how often each entry was picked.
    let (_, pb) = pick_vjp(&x);
    assert_eq!(
        pb.call(&T64::ones(&[4])).to_vec(),
        vec![0.0, 1.0, 0.0, 3.0, 0.0]
    );
}
