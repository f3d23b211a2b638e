//! The rule table for the elementwise selection vocabulary (f64): `abs`,
//! `exp2`, `log1p`, `clamp`, `maximum`, `minimum`, `where_` and the
//! comparison masks, at inputs away from kinks and ties; then the
//! conventions at kinks and ties in closed form (JAX's 0.5 / 0.5 split at
//! ties of `maximum` / `minimum`, torch's `clamp` derivative of 1 on the
//! closed interval and `abs` derivative `sign(x)`).

mod common;

use common::*;
use transforms::prelude::*;

unary_case!(abs, [3, 4], false, |x| x.abs() * x.sin());
unary_case!(exp2, [3, 4], false, |x| x.exp2());
unary_case!(log1p, [3, 4], true, |x| x.log1p());
unary_case!(clamp, [3, 4], false, |x| x.clamp(-0.5, 0.7) * x.exp());
unary_case!(gt_scalar, [3, 4], false, |x| x.gt(0.1) * x.square());
unary_case!(lt_scalar, [3, 4], false, |x| x.lt(0.1) * x.sin() + x);
unary_case!(ge_le_scalar, [3, 4], false, |x| x.ge(-0.2)
    * x.le(0.9)
    * x.exp());
unary_case!(where_scalar_mask, [3, 4], false, |x| where_(
    &x.gt(0.0),
    &x.exp(),
    &x.square()
));
unary_case!(where_broadcast_cond, [3, 4], false, |x| where_(
    &x.sum_dim(0).gt(0.0),
    &x.sin(),
    &x.cos()
));
unary_case!(maximum_self, [3, 4], false, |x| maximum(x, &x.sin())
    .square());
unary_case!(clamp_then_abs, [5], false, |x| (x * 2.0)
    .clamp(-1.0, 1.0)
    .abs()
    * x);

binary_case!(maximum, [3, 4], [3, 4], false, |a, b| maximum(a, b).sin());
binary_case!(maximum_broadcast, [3, 4], [4], false, |a, b| maximum(a, b)
    * a);
binary_case!(minimum, [3, 4], [3, 4], false, |a, b| minimum(a, b).tanh());
binary_case!(minimum_broadcast, [4], [2, 1], false, |a, b| minimum(a, b)
    .exp());
binary_case!(gt_tensor, [3, 4], [4], false, |a, b| a.gt(b) * a * b);
binary_case!(lt_tensor, [3, 4], [3, 4], false, |a, b| a.lt(b) * (a - b));
binary_case!(ge_tensor, [3, 4], [3, 1], false, |a, b| a.ge(b) * a.exp());
binary_case!(le_tensor, [4], [3, 4], false, |a, b| a.le(b) * b.square());
binary_case!(where_tensors, [3, 4], [3, 4], false, |a, b| where_(
    &a.gt(b),
    &a.sin(),
    &(b * a)
));
binary_case!(where_broadcast, [3, 4], [4], false, |a, b| where_(
    &b.lt(0.0),
    a,
    &b.exp()
));

#[grad(argnums = (0, 1))]
#[jvp(argnums = (0, 1))]
#[jacfwd(argnums = (0, 1))]
fn max_sum(a: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    maximum(a, b).sum()
}

#[grad(argnums = (0, 1))]
#[jacfwd(argnums = (0, 1))]
fn min_sum(a: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    minimum(a, b).sum()
}

fn t(v: &[f64]) -> T64 {
    T64::from_shape_vec(&[v.len()], v.to_vec()).unwrap()
}

#[test]
fn maximum_and_minimum_split_ties_in_half() {
    let (a, b) = (t(&[1.0, 2.0, 3.0]), t(&[1.0, 5.0, -1.0]));
    for (ga, gb) in [max_sum_grad(&a, &b), max_sum_jacfwd(&a, &b)] {
        assert_eq!(ga.to_vec(), vec![0.5, 0.0, 1.0]);
        assert_eq!(gb.to_vec(), vec![0.5, 1.0, 0.0]);
    }
    let (ga, gb) = min_sum_grad(&a, &b);
    assert_eq!(ga.to_vec(), vec![0.5, 1.0, 0.0]);
    assert_eq!(gb.to_vec(), vec![0.5, 0.0, 1.0]);
    assert_eq!(min_sum_jacfwd(&a, &b).0.to_vec(), ga.to_vec());
    // Moving both sides together at a tie moves the max at rate 1.
    let ones = t(&[1.0, 1.0, 1.0]);
    let (y, dy) = max_sum_jvp(&a, &b, &ones, &ones);
    assert_eq!((y.item(), dy.item()), (9.0, 3.0));
}

#[grad]
#[jacrev]
#[jvp]
fn clamp_sum(x: &Tensor<f64>) -> Tensor<f64> {
    x.clamp(-1.0, 2.0).sum()
}

#[test]
fn clamp_derivative_is_one_inside_and_zero_outside() {
    let x = t(&[-3.0, -1.0, 0.5, 2.0, 2.5]);
    // torch's convention: the bounds count as inside.
    let want = vec![0.0, 1.0, 1.0, 1.0, 0.0];
    assert_eq!(clamp_sum_grad(&x).to_vec(), want);
    assert_eq!(clamp_sum_jacrev(&x).to_vec(), want);
    let (y, dy) = clamp_sum_jvp(&x, &t(&[1.0; 5]));
    assert_eq!((y.item(), dy.item()), (-1.0 - 1.0 + 0.5 + 2.0 + 2.0, 3.0));
}

#[grad]
fn abs_sum(x: &Tensor<f64>) -> Tensor<f64> {
    x.abs().sum()
}

#[jacrev(argnums = (1, 2))]
fn select(c: &Tensor<f64>, a: &Tensor<f64>, b: &Tensor<f64>) -> Tensor<f64> {
    where_(c, a, b)
}

#[jacrev]
fn masks(x: &Tensor<f64>) -> Tensor<f64> {
    x.gt(0.0) + x.lt(&x.sin()) + x.ge(1.0) + x.le(&x.exp())
}

#[test]
fn abs_where_and_masks_in_closed_form() {
    assert_eq!(
        abs_sum_grad(&t(&[-2.0, 0.0, 3.0])).to_vec(),
        vec![-1.0, 0.0, 1.0]
    );
    let c = t(&[1.0, 0.0, 1.0]);
    let (ja, jb) = select_jacrev(&c, &t(&[1.0, 2.0, 3.0]), &t(&[4.0, 5.0, 6.0]));
    let diag = |v: [f64; 3]| {
        let mut d = vec![0.0; 9];
        (0..3).for_each(|i| d[i * 4] = v[i]);
        d
    };
    assert_eq!(ja.to_vec(), diag([1.0, 0.0, 1.0]));
    assert_eq!(jb.to_vec(), diag([0.0, 1.0, 0.0]));
    let x = t(&[-1.0, 0.5, 2.0]);
    assert_eq!(masks(&x).to_vec(), vec![2.0, 2.0, 3.0]);
    assert_eq!(masks_jacrev(&x).to_vec(), vec![0.0; 9]);
}
