//! `broadcast_like`/`sum_to_like`, the vmap helpers and the constants.

mod common;

use common::{assert_close, assert_tensor_close, check_batched, dot, rand, t64};
use transforms_runtime::{Tensor, ops};

#[test]
fn broadcast_like_values() {
    let x = t64(&[3], &[1., 2., 3.]);
    let like = Tensor::<f64>::zeros(&[2, 3]);
    let y = ops::broadcast_like(&x, &like, 0);
    assert_eq!(
        (y.shape(), y.to_vec()),
        (&[2usize, 3][..], vec![1., 2., 3., 1., 2., 3.])
    );
    let col = t64(&[2, 1], &[1., 2.]);
    assert_eq!(
        ops::broadcast_like(&col, &like, 0).to_vec(),
        vec![1., 1., 1., 2., 2., 2.]
    );
    // batch dims broadcast mutually: x batch [2], like batch [1]
    let xb = t64(&[2], &[5., 6.]);
    let lb = Tensor::<f64>::zeros(&[1, 3]);
    let z = ops::broadcast_like(&xb, &lb, 1);
    assert_eq!(
        (z.shape(), z.to_vec()),
        (&[2usize, 3][..], vec![5., 5., 5., 6., 6., 6.])
    );
    // x batch [1], like batch [4]
    let w = ops::broadcast_like(&t64(&[1, 1], &[7.]), &Tensor::<f64>::zeros(&[4, 2]), 1);
    assert_eq!((w.shape(), w.to_vec()), (&[4usize, 2][..], vec![7.; 8]));
}

#[test]
fn sum_to_like_values() {
    let x = t64(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    assert_eq!(
        ops::sum_to_like(&x, &Tensor::zeros(&[3]), 0, 0).to_vec(),
        vec![5., 7., 9.]
    );
    let k = ops::sum_to_like(&x, &Tensor::zeros(&[2, 1]), 0, 0);
    assert_eq!((k.shape(), k.to_vec()), (&[2usize, 1][..], vec![6., 15.]));
    assert_eq!(
        ops::sum_to_like(&x, &Tensor::scalar(0.0), 0, 0).to_vec(),
        vec![21.]
    );
    assert_eq!(
        ops::sum_to_like(&x, &Tensor::zeros(&[2, 3]), 0, 0).to_vec(),
        x.to_vec()
    );
    // nb = 1 keeps x's batch dims where like's match...
    let b = ops::sum_to_like(&x, &Tensor::zeros(&[2]), 1, 0);
    assert_eq!((b.shape(), b.to_vec()), (&[2usize][..], vec![6., 15.]));
    // ...and sums them to size 1 where like's batch dim is 1 (a broadcast operand).
    let b = ops::sum_to_like(&x, &Tensor::zeros(&[1]), 1, 0);
    assert_eq!((b.shape(), b.to_vec()), (&[1usize][..], vec![21.]));
    // ...unless the keep mask says like is not batched at that level.
    let b = ops::sum_to_like(&x, &Tensor::zeros(&[1]), 1, 0b1);
    assert_eq!((b.shape(), b.to_vec()), (&[2usize][..], vec![6., 15.]));
    let b = ops::sum_to_like(&x, &Tensor::zeros(&[1, 3]), 1, 0);
    assert_eq!(
        (b.shape(), b.to_vec()),
        (&[1usize, 3][..], vec![5., 7., 9.])
    );
}

#[test]
fn broadcast_sum_to_adjointness() {
    let cases: [(&[usize], &[usize], usize); 5] = [
        (&[3], &[2, 3], 0),
        (&[2, 1], &[2, 3], 0),
        (&[], &[4, 2, 3], 0),
        (&[2, 1, 3], &[2, 4, 5, 3], 1),
        (&[1, 4, 1], &[3, 2, 4, 5], 1),
    ];
    for (i, (sx, sl, nb)) in cases.iter().enumerate() {
        let x = rand(sx, i as u64);
        let like = rand(sl, 10 + i as u64);
        let y = ops::broadcast_like(&x, &like, *nb);
        let c = rand(y.shape(), 20 + i as u64);
        let back = ops::sum_to_like(&c, &x, *nb, 0);
        // sum_to_like keeps c's batch dims; sum them when x's batch is 1
        let back = if back.shape() == x.shape() {
            back
        } else {
            ops::sum_to_like(&back, &x, 0, 0)
        };
        assert_eq!(back.shape(), x.shape());
        assert_close(dot(&y, &c), dot(&x, &back));
    }
}

#[test]
fn broadcast_nb1_equals_loop() {
    let x = rand(&[3, 4, 1], 1);
    let like = rand(&[3, 2, 4, 5], 2);
    check_batched(&[x.clone(), like.clone()], |v, nb| {
        ops::broadcast_like(&v[0], &v[1], nb)
    });
    check_batched(&[like.clone(), x.clone()], |v, nb| {
        ops::sum_to_like(&v[0], &v[1], nb, 0)
    });
    let x1 = rand(&[1, 4, 1], 3);
    check_batched(&[x1, like.clone()], |v, nb| {
        ops::broadcast_like(&v[0], &v[1], nb)
    });
}

#[test]
#[should_panic(
    expected = "transforms: broadcast_like: cannot broadcast the per-example part, shapes [3] and [2, 4]"
)]
fn broadcast_like_mismatch_panics() {
    ops::broadcast_like(&Tensor::<f32>::zeros(&[3]), &Tensor::zeros(&[2, 4]), 0);
}

#[test]
#[should_panic(
    expected = "transforms: sum_to_like: per-example dim 1 of size 3 cannot be summed to size 2"
)]
fn sum_to_like_mismatch_panics() {
    ops::sum_to_like(&Tensor::<f32>::zeros(&[2, 3]), &Tensor::zeros(&[2]), 0, 0);
}

#[test]
fn expand_dim0_like_values() {
    let r = Tensor::<f64>::zeros(&[3, 2]);
    let x = t64(&[1, 2], &[1., 2.]);
    let y = ops::expand_dim0_like(&x, &r, 0);
    assert_eq!(
        (y.shape(), y.to_vec()),
        (&[3usize, 2][..], vec![1., 2., 1., 2., 1., 2.])
    );
    let same = rand(&[3, 5], 1);
    assert_tensor_close(&ops::expand_dim0_like(&same, &r, 0), &same);
    let xb = t64(&[2, 1], &[1., 2.]);
    let rb = Tensor::<f64>::zeros(&[2, 3]);
    let e = ops::expand_dim0_like(&xb, &rb, 1);
    assert_eq!(
        (e.shape(), e.to_vec()),
        (&[2usize, 3][..], vec![1., 1., 1., 2., 2., 2.])
    );
    let xs = rand(&[4, 1, 2], 2);
    let rs = rand(&[4, 3], 3);
    check_batched(&[xs, rs], |v, nb| ops::expand_dim0_like(&v[0], &v[1], nb));
}

#[test]
#[should_panic(
    expected = "transforms: expand_dim0_like: per-example dim 0 has size 2, expected 1 or 3, shapes [2] and [3]"
)]
fn expand_dim0_like_mismatch_panics() {
    ops::expand_dim0_like(&Tensor::<f32>::zeros(&[2]), &Tensor::zeros(&[3]), 0);
}

#[test]
#[should_panic(
    expected = "transforms: expand_dim0_like: both tensors need at least one per-example dim"
)]
fn expand_dim0_like_scalar_panics() {
    ops::expand_dim0_like(&Tensor::<f32>::zeros(&[2]), &Tensor::zeros(&[2, 3]), 1);
}

#[test]
fn assert_batch_passes_through() {
    let x = rand(&[3, 2], 1);
    let r = rand(&[3], 2);
    let out = ops::assert_batch(&x, &r, 0);
    assert!(std::ptr::eq(out, &x));
    ops::assert_batch(&rand(&[5, 3, 2], 3), &rand(&[1, 3], 4), 1);
}

#[test]
#[should_panic(
    expected = "transforms: vmap: mapped inputs have different batch sizes: 3 and 4 (shapes [3, 2] and [4])"
)]
fn assert_batch_mismatch_panics() {
    ops::assert_batch(&Tensor::<f32>::zeros(&[3, 2]), &Tensor::zeros(&[4]), 0);
}

#[test]
fn constants() {
    let like = rand(&[2, 3], 1);
    let z = ops::zeros_like(&like, 1);
    assert_eq!((z.shape(), z.to_vec()), (&[2usize, 3][..], vec![0.0; 6]));
    let s = ops::grad_seed(&rand(&[4], 1), 1);
    assert_eq!((s.shape(), s.to_vec()), (&[4usize][..], vec![1.0; 4]));
    assert_eq!(ops::grad_seed(&Tensor::scalar(3.0f64), 0).item(), 1.0);
    let b = ops::basis(&rand(&[5, 2, 2], 1), 1);
    assert_eq!(b.shape(), &[1, 4, 2, 2]);
    let v = b.to_vec();
    for i in 0..4 {
        for j in 0..4 {
            assert_eq!(v[i * 4 + j], if i == j { 1.0 } else { 0.0 });
        }
    }
    let b0 = ops::basis(&Tensor::scalar(1.0f64), 0);
    assert_eq!((b0.shape(), b0.to_vec()), (&[1usize][..], vec![1.0]));
    assert_eq!(ops::basis(&rand(&[2, 5, 3], 1), 2).shape(), &[1, 1, 3, 3]);
}

#[test]
#[should_panic(
    expected = "transforms: grad: the function's output must be 0-dim (a scalar), got shape [3]"
)]
fn grad_seed_non_scalar_panics() {
    ops::grad_seed(&Tensor::<f32>::zeros(&[3]), 0);
}
