//! Shape ops: reshape, transpose, (un)squeeze, movedim, flatten/unflatten.

mod common;

use common::{assert_tensor_close, check_batched, rand, t64};
use transforms_runtime::{Tensor, ops};

#[test]
fn reshape_and_reshape_like() {
    let x = t64(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let y = ops::reshape(&x, &[3, -1], 0);
    assert_eq!((y.shape(), y.to_vec()), (&[3usize, 2][..], x.to_vec()));
    assert_eq!(ops::reshape(&x, &[-1], 1).shape(), &[2, 3]);
    assert_eq!(ops::reshape(&x, &[3, 1], 1).shape(), &[2, 3, 1]);
    assert_eq!(
        ops::reshape(&Tensor::scalar(1.0f64), &[1, 1], 0).shape(),
        &[1, 1]
    );
    let like = Tensor::<f64>::zeros(&[9, 1, 3]);
    assert_eq!(ops::reshape_like(&x, &like, 1).shape(), &[2, 1, 3]);
    let r = rand(&[4, 6], 1);
    check_batched(std::slice::from_ref(&r), |v, nb| {
        ops::reshape(&v[0], &[2, -1], nb)
    });
    let like = rand(&[4, 3, 2], 2);
    check_batched(&[r.clone(), like], |v, nb| {
        ops::reshape_like(&v[0], &v[1], nb)
    });
}

#[test]
#[should_panic(
    expected = "transforms: reshape: cannot reshape the per-example part to [4, -1]: the size of the -1 dim cannot be inferred, shape [2, 3]"
)]
fn reshape_bad_infer_panics() {
    ops::reshape(&Tensor::<f32>::zeros(&[2, 3]), &[4, -1], 0);
}

#[test]
#[should_panic(
    expected = "transforms: reshape: cannot reshape the per-example part to [-1, -1]: only one dim may be -1"
)]
fn reshape_two_infers_panics() {
    ops::reshape(&Tensor::<f32>::zeros(&[2, 3]), &[-1, -1], 0);
}

#[test]
#[should_panic(
    expected = "transforms: reshape_like: the per-example element counts differ, shapes [2, 3] and [2, 4]"
)]
fn reshape_like_mismatch_panics() {
    ops::reshape_like(&Tensor::<f32>::zeros(&[2, 3]), &Tensor::zeros(&[2, 4]), 1);
}

#[test]
fn transpose_t_movedim_values() {
    let x = t64(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let y = ops::transpose(&x, 0, -1, 0);
    assert_eq!(
        (y.shape(), y.to_vec()),
        (&[3usize, 2][..], vec![1., 4., 2., 5., 3., 6.])
    );
    assert_eq!(ops::t(&x, 0).to_vec(), y.to_vec());
    assert_eq!(ops::t(&x, 1).to_vec(), x.to_vec()); // pe rank 1: copy
    let z = rand(&[2, 3, 4], 1);
    let m = ops::movedim(&z, -1, 0, 0);
    assert_eq!(m.shape(), &[4, 2, 3]);
    assert_eq!(m.select(0, 2).to_vec(), z.select(2, 2).to_vec());
    let back = ops::movedim(&m, 0, 2, 0);
    assert_tensor_close(&back, &z);
    let b = rand(&[3, 2, 4, 5], 2);
    check_batched(std::slice::from_ref(&b), |v, nb| {
        ops::transpose(&v[0], 0, 2, nb)
    });
    check_batched(std::slice::from_ref(&b), |v, nb| {
        ops::movedim(&v[0], 2, 0, nb)
    });
    check_batched(std::slice::from_ref(&b), |v, nb| {
        ops::movedim(&v[0], 0, -1, nb)
    });
    let b2 = rand(&[3, 2, 4], 3);
    check_batched(std::slice::from_ref(&b2), |v, nb| ops::t(&v[0], nb));
}

#[test]
#[should_panic(expected = "transforms: t: expects at most 2 per-example dims, shape [5, 1, 2, 3]")]
fn t_rank3_pe_panics() {
    ops::t(&Tensor::<f32>::zeros(&[5, 1, 2, 3]), 1);
}

#[test]
#[should_panic(expected = "transforms: transpose: dim 2 is out of range")]
fn transpose_bad_dim_panics() {
    ops::transpose(&Tensor::<f32>::zeros(&[5, 1, 2]), 0, 2, 1);
}

#[test]
fn unsqueeze_squeeze() {
    let x = rand(&[2, 3], 1);
    assert_eq!(ops::unsqueeze(&x, 0, 0).shape(), &[1, 2, 3]);
    assert_eq!(ops::unsqueeze(&x, -1, 0).shape(), &[2, 3, 1]);
    assert_eq!(ops::unsqueeze(&x, 2, 0).shape(), &[2, 3, 1]);
    assert_eq!(ops::unsqueeze(&x, 0, 1).shape(), &[2, 1, 3]);
    assert_eq!(ops::unsqueeze(&x, -1, 1).shape(), &[2, 3, 1]);
    assert_eq!(ops::unsqueeze(&x, -1, 2).shape(), &[2, 3, 1]);
    let u = ops::unsqueeze(&x, 0, 1);
    assert_eq!(u.shape(), &[2, 1, 3]);
    assert_tensor_close(&ops::squeeze(&u, 0, 1), &x);
    assert_tensor_close(&ops::squeeze(&u, -2, 1), &x);
    check_batched(std::slice::from_ref(&x), |v, nb| {
        ops::unsqueeze(&v[0], -1, nb)
    });
    check_batched(std::slice::from_ref(&u), |v, nb| ops::squeeze(&v[0], 0, nb));
}

#[test]
#[should_panic(expected = "transforms: squeeze: per-example dim 1 has size 3, not 1, shape [2, 3]")]
fn squeeze_non_one_panics() {
    ops::squeeze(&Tensor::<f32>::zeros(&[2, 3]), 1, 0);
}

#[test]
#[should_panic(expected = "transforms: unsqueeze: dim 3 is out of range")]
fn unsqueeze_bad_dim_panics() {
    ops::unsqueeze(&Tensor::<f32>::zeros(&[2, 3]), 3, 0);
}

#[test]
fn flatten_unflatten_round_trips() {
    let like = Tensor::<f64>::zeros(&[7, 3, 4]); // nb = 1: pe shape [3, 4]
    let x = rand(&[2, 3, 4, 5], 1); // pe [3, 4, 5]
    let f0 = ops::flatten_like(&x, 0, &like, 1);
    assert_eq!(f0.shape(), &[2, 12, 5]);
    assert_tensor_close(&ops::unflatten_like(&f0, 0, &like, 1), &x);
    let y = rand(&[2, 5, 3, 4], 2); // block at the end
    let f1 = ops::flatten_like(&y, -1, &like, 1);
    assert_eq!(f1.shape(), &[2, 5, 12]);
    assert_tensor_close(&ops::unflatten_like(&f1, -1, &like, 1), &y);
    let w = rand(&[2, 3, 4, 6], 3); // d = -2: block ends at pe index 1
    let f2 = ops::flatten_like(&w, -2, &like, 1);
    assert_eq!(f2.shape(), &[2, 12, 6]);
    assert_tensor_close(&ops::unflatten_like(&f2, -2, &like, 1), &w);
    // k = 0: inserts a size-1 dim (at d, or after pe_rank + d), removed again
    let scalar_like = Tensor::<f64>::zeros(&[7]);
    let k0 = ops::flatten_like(&x, 1, &scalar_like, 1);
    assert_eq!(k0.shape(), &[2, 3, 1, 4, 5]);
    assert_tensor_close(&ops::unflatten_like(&k0, 1, &scalar_like, 1), &x);
    let k0n = ops::flatten_like(&x, -1, &scalar_like, 1);
    assert_eq!(k0n.shape(), &[2, 3, 4, 5, 1]);
    assert_tensor_close(&ops::unflatten_like(&k0n, -1, &scalar_like, 1), &x);
    let k0m = ops::flatten_like(&x, -2, &scalar_like, 1);
    assert_eq!(k0m.shape(), &[2, 3, 4, 1, 5]);
    assert_tensor_close(&ops::unflatten_like(&k0m, -2, &scalar_like, 1), &x);
    // the flattened data is a plain reshape
    assert_eq!(f0.to_vec(), x.to_vec());
    let like1 = Tensor::<f64>::zeros(&[1, 3, 4]); // batch size 1 broadcasts in the loop
    check_batched(&[x.clone(), like1.clone()], |v, nb| {
        ops::flatten_like(&v[0], 0, &v[1], nb)
    });
    check_batched(&[f1.clone(), like1], |v, nb| {
        ops::unflatten_like(&v[0], -1, &v[1], nb)
    });
}

#[test]
#[should_panic(
    expected = "transforms: flatten_like: per-example dims 0..2 do not match the shape to flatten, shapes [3, 5] and [3, 4]"
)]
fn flatten_like_mismatch_panics() {
    ops::flatten_like(
        &Tensor::<f32>::zeros(&[3, 5]),
        0,
        &Tensor::zeros(&[3, 4]),
        0,
    );
}

#[test]
#[should_panic(
    expected = "transforms: unflatten_like: per-example dim 0 has size 5 but 12 elements are needed"
)]
fn unflatten_like_mismatch_panics() {
    ops::unflatten_like(&Tensor::<f32>::zeros(&[5]), 0, &Tensor::zeros(&[3, 4]), 0);
}
