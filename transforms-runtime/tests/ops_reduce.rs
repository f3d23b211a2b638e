//! `sum`/`mean` and their transposes `sum_t`/`mean_t`.

mod common;

use common::{assert_close, check_batched, dot, rand, t64};
use transforms_runtime::{Tensor, ops};

#[test]
fn sum_and_mean_values() {
    let x = t64(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    assert_eq!(ops::sum(&x, None, 0).shape(), &[] as &[usize]);
    assert_eq!(ops::sum(&x, None, 0).item(), 21.0);
    assert_eq!(ops::sum(&x, Some(0), 0).to_vec(), vec![5., 7., 9.]);
    assert_eq!(ops::sum(&x, Some(-1), 0).to_vec(), vec![6., 15.]);
    assert_eq!(ops::mean(&x, None, 0).item(), 3.5);
    assert_eq!(ops::mean(&x, Some(0), 0).to_vec(), vec![2.5, 3.5, 4.5]);
    // nb = 1: per-row reductions
    let s = ops::sum(&x, None, 1);
    assert_eq!((s.shape(), s.to_vec()), (&[2usize][..], vec![6., 15.]));
    assert_eq!(ops::mean(&x, Some(0), 1).to_vec(), vec![2., 5.]);
    // 0-dim pe part: sum over nothing is the identity
    assert_eq!(ops::sum(&x, None, 2).to_vec(), x.to_vec());
    // empty reductions
    assert_eq!(ops::sum(&Tensor::<f64>::zeros(&[0]), None, 0).item(), 0.0);
    assert!(
        ops::mean(&Tensor::<f64>::zeros(&[0]), None, 0)
            .item()
            .is_nan()
    );
}

#[test]
fn transposes_values() {
    let like = Tensor::<f64>::zeros(&[2, 3]);
    let ct = t64(&[3], &[1., 2., 3.]);
    let s = ops::sum_t(&ct, Some(0), &like, 0);
    assert_eq!(
        (s.shape(), s.to_vec()),
        (&[2usize, 3][..], vec![1., 2., 3., 1., 2., 3.])
    );
    let m = ops::mean_t(&t64(&[2], &[3., 6.]), Some(-1), &like, 0);
    assert_eq!(m.to_vec(), vec![1., 1., 1., 2., 2., 2.]);
    let all = ops::mean_t(&Tensor::scalar(6.0), None, &like, 0);
    assert_eq!(all.to_vec(), vec![1.0; 6]);
    // batch dims come from ct, like only gives the pe shape
    let b = ops::sum_t(
        &t64(&[2], &[1., 2.]),
        None,
        &Tensor::<f64>::zeros(&[1, 3]),
        1,
    );
    assert_eq!(
        (b.shape(), b.to_vec()),
        (&[2usize, 3][..], vec![1., 1., 1., 2., 2., 2.])
    );
}

#[test]
fn adjointness() {
    let dims: [Option<isize>; 5] = [None, Some(0), Some(1), Some(-1), Some(-3)];
    for nb in 0..2 {
        let x = rand(&[2, 3, 4, 5][..nb + 3], 1 + nb as u64);
        for (i, dim) in dims.iter().enumerate() {
            let s = ops::sum(&x, *dim, nb);
            let c = rand(s.shape(), 10 + i as u64);
            assert_close(dot(&s, &c), dot(&x, &ops::sum_t(&c, *dim, &x, nb)));
            let m = ops::mean(&x, *dim, nb);
            assert_close(dot(&m, &c), dot(&x, &ops::mean_t(&c, *dim, &x, nb)));
        }
    }
}

#[test]
fn nb1_equals_loop() {
    let x = rand(&[3, 2, 4], 5);
    for dim in [None, Some(0), Some(-1)] {
        check_batched(std::slice::from_ref(&x), |v, nb| ops::sum(&v[0], dim, nb));
        check_batched(std::slice::from_ref(&x), |v, nb| ops::mean(&v[0], dim, nb));
        let c = rand(ops::sum(&x, dim, 1).shape(), 6);
        check_batched(&[c.clone(), x.clone()], |v, nb| {
            ops::sum_t(&v[0], dim, &v[1], nb)
        });
        check_batched(&[c.clone(), x.clone()], |v, nb| {
            ops::mean_t(&v[0], dim, &v[1], nb)
        });
    }
}

#[test]
#[should_panic(
    expected = "transforms: sum: dim 2 is out of range for 2 per-example dims, shape [4, 2, 3]"
)]
fn sum_bad_dim_panics() {
    ops::sum(&Tensor::<f32>::zeros(&[4, 2, 3]), Some(2), 1);
}

#[test]
#[should_panic(
    expected = "transforms: mean_t: the cotangent's per-example shape must be [3], shapes [2] and [2, 3]"
)]
fn mean_t_bad_cotangent_panics() {
    ops::mean_t(
        &Tensor::<f32>::zeros(&[2]),
        Some(0),
        &Tensor::zeros(&[2, 3]),
        0,
    );
}

#[test]
#[should_panic(expected = "transforms: sum_t")]
fn sum_t_bad_cotangent_panics() {
    ops::sum_t(
        &Tensor::<f32>::zeros(&[2]),
        None,
        &Tensor::zeros(&[2, 3]),
        0,
    );
}
