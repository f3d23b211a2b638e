//! The selection and slicing kernels: values by hand, `nb = 1` against a
//! loop over the batch, adjoint pairs by the inner-product identity, and the
//! panic messages.

mod common;

use common::{assert_tensor_close, check_batched, dot, rand, t64};
use transforms_runtime::{Tensor, ops};

#[test]
fn elementwise_values() {
    let x = t64(&[5], &[-2.0, -0.0, 0.0, 0.5, 3.0]);
    assert_eq!(ops::abs(&x).to_vec(), vec![2.0, 0.0, 0.0, 0.5, 3.0]);
    assert_eq!(ops::sign(&x).to_vec(), vec![-1.0, 0.0, 0.0, 1.0, 1.0]);
    assert_eq!(ops::exp2(&x).to_vec()[4], 8.0);
    assert!((ops::log1p(&t64(&[1], &[1e-20])).item() - 1e-20).abs() < 1e-35);
    assert_eq!(ops::nonzero(&x).to_vec(), vec![1.0, 0.0, 0.0, 1.0, 1.0]);
    assert_eq!(
        ops::clamp(&x, -1.0, 1.0).to_vec(),
        vec![-1.0, 0.0, 0.0, 0.5, 1.0]
    );
    assert_eq!(
        ops::in_range(&x, -1.0, 0.5).to_vec(),
        vec![0.0, 1.0, 1.0, 1.0, 0.0]
    );
    assert_eq!(
        ops::gt_scalar(&x, 0.0).to_vec(),
        vec![0.0, 0.0, 0.0, 1.0, 1.0]
    );
    assert_eq!(
        ops::le_scalar(&x, 0.0).to_vec(),
        vec![1.0, 1.0, 1.0, 0.0, 0.0]
    );
    let nan = t64(&[2], &[f64::NAN, 1.0]);
    let one = t64(&[2], &[1.0, f64::NAN]);
    assert!(
        ops::maximum(&nan, &one, 0)
            .to_vec()
            .iter()
            .all(|v| v.is_nan())
    );
    assert!(
        ops::minimum(&nan, &one, 0)
            .to_vec()
            .iter()
            .all(|v| v.is_nan())
    );
    assert!(ops::clamp(&nan, 0.0, 1.0).to_vec()[0].is_nan());
}

#[test]
fn binary_and_where_nb1_equal_a_loop() {
    let cases: [(&[usize], &[usize]); 3] = [
        (&[3, 2, 4], &[3, 2, 4]),
        (&[3, 2, 1], &[1, 5]),
        (&[1, 4], &[3, 2, 4]),
    ];
    for (i, (sa, sb)) in cases.iter().enumerate() {
        let (a, b) = (rand(sa, i as u64), rand(sb, 10 + i as u64));
        let ab = [a.clone(), b.clone()];
        check_batched(&ab, |x, nb| ops::maximum(&x[0], &x[1], nb));
        check_batched(&ab, |x, nb| ops::minimum(&x[0], &x[1], nb));
        check_batched(&ab, |x, nb| ops::gt(&x[0], &x[1], nb));
        check_batched(&ab, |x, nb| ops::lt(&x[0], &x[1], nb));
        check_batched(&ab, |x, nb| ops::ge(&x[0], &x[1], nb));
        check_batched(&ab, |x, nb| ops::le(&x[0], &x[1], nb));
        let c = ops::gt_scalar(&rand(sb, 20 + i as u64), 0.0);
        check_batched(&[c, a, b], |x, nb| ops::where_(&x[0], &x[1], &x[2], nb));
    }
    let (a, b) = (t64(&[2], &[1.0, 5.0]), t64(&[2, 1], &[2.0, 3.0]));
    assert_eq!(ops::maximum(&a, &b, 0).to_vec(), vec![2.0, 5.0, 3.0, 5.0]);
    let c = t64(&[2], &[1.0, 0.0]);
    assert_eq!(
        ops::where_(&c, &a, &b, 0).to_vec(),
        vec![1.0, 2.0, 1.0, 3.0]
    );
}

#[test]
#[should_panic(expected = "transforms: where: shapes do not broadcast, shapes [2], [3] and [2]")]
fn where_mismatch_panics() {
    let z = |n| Tensor::<f64>::zeros(&[n]);
    ops::where_(&z(2), &z(3), &z(2), 0);
}

#[test]
fn cat_and_its_slices() {
    let a = t64(&[2, 2], &[1., 2., 3., 4.]);
    let b = t64(&[2, 1], &[5., 6.]);
    let y = ops::cat(&[&a, &b], -1, 0);
    assert_eq!(
        (y.shape(), y.to_vec()),
        (&[2usize, 3][..], vec![1., 2., 5., 3., 4., 6.])
    );
    assert_eq!(ops::cat_slice(&y, 1, 1, &[&a, &b], 0).to_vec(), b.to_vec());
    assert_eq!(ops::cat_slice(&y, -1, 0, &[&a, &b], 0).to_vec(), a.to_vec());
    let (a, b) = (rand(&[3, 2, 4], 1), rand(&[3, 5, 4], 2));
    check_batched(&[a.clone(), b.clone()], |x, nb| {
        ops::cat(&[&x[0], &x[1]], 0, nb)
    });
    // An unbatched operand (batch dim 1) broadcasts.
    let b1 = rand(&[1, 5, 4], 3);
    check_batched(&[a.clone(), b1.clone()], |x, nb| {
        ops::cat(&[&x[1], &x[0], &x[1]], -2, nb)
    });
    let y = ops::cat(&[&a, &b], 0, 1);
    check_batched(&[y.clone(), a.clone(), b.clone()], |x, nb| {
        ops::cat_slice(&x[0], 0, 1, &[&x[1], &x[2]], nb)
    });
    // <cat(a, b), g> = <a, slice_0 g> + <b, slice_1 g>.
    let g = rand(y.shape(), 4);
    let lhs = dot(&y, &g);
    let rhs = dot(&a, &ops::cat_slice(&g, 0, 0, &[&a, &b], 1))
        + dot(&b, &ops::cat_slice(&g, 0, 1, &[&a, &b], 1));
    assert!((lhs - rhs).abs() < 1e-10);
}

#[test]
#[should_panic(
    expected = "transforms: cat: the per-example shapes must agree except along dim 0, shapes [2, 3] and [2, 4]"
)]
fn cat_mismatch_panics() {
    ops::cat(
        &[&Tensor::<f64>::zeros(&[2, 3]), &Tensor::zeros(&[2, 4])],
        0,
        0,
    );
}

#[test]
fn narrow_and_pad_like() {
    let x = t64(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    assert_eq!(ops::narrow(&x, 1, 1, 2, 0).to_vec(), vec![2., 3., 5., 6.]);
    assert_eq!(ops::narrow(&x, -1, -1, 1, 0).to_vec(), vec![3., 6.]);
    let p = ops::pad_like(&t64(&[2, 1], &[7., 8.]), 1, -2, &x, 0);
    assert_eq!(p.to_vec(), vec![0., 7., 0., 0., 8., 0.]);
    let r = rand(&[3, 4, 5], 1);
    check_batched(std::slice::from_ref(&r), |v, nb| {
        ops::narrow(&v[0], -1, 1, 3, nb)
    });
    let n = ops::narrow(&r, 1, 1, 3, 1);
    check_batched(&[n.clone(), r.clone()], |v, nb| {
        ops::pad_like(&v[0], 1, 1, &v[1], nb)
    });
    let g = rand(n.shape(), 2);
    let lhs = dot(&n, &g);
    let rhs = dot(&r, &ops::pad_like(&g, 1, 1, &r, 1));
    assert!((lhs - rhs).abs() < 1e-10);
}

#[test]
#[should_panic(
    expected = "transforms: narrow: start 2 and length 2 do not fit dim 0 of size 3, shape [3]"
)]
fn narrow_out_of_range_panics() {
    ops::narrow(&Tensor::<f64>::zeros(&[3]), 0, 2, 2, 0);
}

#[test]
fn index_select_and_index_add_like() {
    let x = t64(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    assert_eq!(
        ops::index_select(&x, 1, &[2, 0, 2], 0).to_vec(),
        vec![3., 1., 3., 6., 4., 6.]
    );
    assert_eq!(
        ops::index_select(&x, -2, &[1], 0).to_vec(),
        vec![4., 5., 6.]
    );
    // Repeated indices accumulate.
    let ct = t64(&[3], &[1., 10., 100.]);
    assert_eq!(
        ops::index_add_like(&ct, 0, &[1, 1, 0], &t64(&[2], &[0., 0.]), 0).to_vec(),
        vec![100., 11.]
    );
    let r = rand(&[3, 4, 5], 1);
    let idx = [4, 0, 4, 2];
    check_batched(std::slice::from_ref(&r), |v, nb| {
        ops::index_select(&v[0], -1, &idx, nb)
    });
    let s = ops::index_select(&r, 1, &idx, 1);
    check_batched(&[s.clone(), r.clone()], |v, nb| {
        ops::index_add_like(&v[0], 1, &idx, &v[1], nb)
    });
    let g = rand(s.shape(), 2);
    let lhs = dot(&s, &g);
    let rhs = dot(&r, &ops::index_add_like(&g, 1, &idx, &r, 1));
    assert!((lhs - rhs).abs() < 1e-10);
}

#[test]
#[should_panic(
    expected = "transforms: index_select: index 3 is out of range for dim 0 of size 3, shape [3]"
)]
fn index_out_of_range_panics() {
    ops::index_select(&Tensor::<f64>::zeros(&[3]), 0, &[0, 3], 0);
}

#[test]
fn max_along_a_dim() {
    let x = t64(&[2, 3], &[1., 5., 2., -1., -3., f64::NAN]);
    let m = ops::amax(&x, 1, 0);
    assert_eq!(m.to_vec()[0], 5.0);
    assert!(m.to_vec()[1].is_nan());
    assert_eq!(ops::amax(&x, -2, 0).to_vec()[..2], [1.0, 5.0]);
    let inf = t64(
        &[2, 2],
        &[f64::NEG_INFINITY, f64::NEG_INFINITY, 1.0, f64::INFINITY],
    );
    assert_eq!(ops::max_shift(&inf, 1, 0).to_vec(), vec![0.0, 0.0]);
    let r = rand(&[3, 4, 5], 1);
    check_batched(std::slice::from_ref(&r), |v, nb| ops::amax(&v[0], 1, nb));
    check_batched(std::slice::from_ref(&r), |v, nb| {
        ops::max_shift(&v[0], -1, nb)
    });
    assert_tensor_close(&r.max_dim(0), &ops::amax(&r, 0, 0));
}

#[test]
#[should_panic(expected = "transforms: max_dim: expects at least one per-example dim, shape [3]")]
fn max_dim_of_batch_only_panics() {
    ops::amax(&Tensor::<f64>::zeros(&[3]), 0, 1);
}

#[test]
fn user_methods_match_the_ops() {
    let x = rand(&[3, 4], 5);
    let s = x.softmax(-1);
    for r in 0..3 {
        let total: f64 = s.select(0, r).to_vec().iter().sum();
        assert!((total - 1.0).abs() < 1e-14);
    }
    assert_tensor_close(&x.log_softmax(1), &s.ln());
    assert_tensor_close(&x.logsumexp(1), &x.exp().sum_dim(1).ln());
    let big = t64(&[2], &[1000.0, 1000.0]);
    assert!((big.logsumexp(0).item() - 1000.0 - 2f64.ln()).abs() < 1e-12);
    assert!((x.norm().item() - x.square().sum().item().sqrt()).abs() < 1e-14);
    assert_eq!(x.gt(0.0).to_vec(), ops::gt_scalar(&x, 0.0).to_vec());
    assert_eq!(x.le(&x.t().t()).to_vec(), vec![1.0; 12]);
    let c = transforms_runtime::cat(&[&x, &x], 0);
    assert_eq!(c.shape(), &[6, 4]);
    assert_eq!(
        transforms_runtime::stack(&[x.clone(), x.clone()], -1).shape(),
        &[3, 4, 2]
    );
}
