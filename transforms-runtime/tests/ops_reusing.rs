//! `ops::fused*_reusing`: a chain over a tensor that nothing reads
//! afterwards writes its result over that tensor's elements when it owns
//! its whole buffer alone, and otherwise leaves every input as it was and
//! returns what `ops::fused*` returns.

use transforms_runtime::{Tensor, ops};

type T = Tensor<f64>;

fn t(shape: &[usize], seed: f64) -> T {
    let n: usize = shape.iter().product();
    let data = (0..n).map(|i| (i as f64 * 0.37 + seed).sin()).collect();
    T::from_shape_vec(shape, data).unwrap()
}

fn bits(x: &T) -> Vec<u64> {
    x.as_slice().iter().map(|v| v.to_bits()).collect()
}

#[test]
fn a_tensor_of_its_own_is_overwritten() {
    let f1 = |x: f64| (x * 2.0).tanh() + 1.0;
    let f2 = |x: f64, y: f64| x * y - y;
    let f3 = |x: f64, y: f64, z: f64| x + y * z;
    let (b, c) = (t(&[3, 4], 1.0), t(&[3, 4], 2.0));

    let a = t(&[3, 4], 0.0);
    let (at, want) = (a.as_slice().as_ptr(), ops::fused1(&a, f1));
    let got = ops::fused1_reusing(a, f1, Some("t_unused(x0)"), &[]);
    assert_eq!(got.as_slice().as_ptr(), at, "written in place");
    assert_eq!((got.shape(), bits(&got)), (want.shape(), bits(&want)));

    let a = t(&[3, 4], 0.0);
    let (at, want) = (a.as_slice().as_ptr(), ops::fused2(&a, &b, 0, f2));
    let got = ops::fused2_reusing(a, &b, 0, f2, None, &[]);
    assert_eq!(got.as_slice().as_ptr(), at, "written in place");
    assert_eq!(bits(&got), bits(&want));

    let a = t(&[3, 4], 0.0);
    let (at, want) = (a.as_slice().as_ptr(), ops::fused3(&a, &b, &c, 0, f3));
    let got = ops::fused3_reusing(a, &b, &c, 0, f3, None, &[]);
    assert_eq!(got.as_slice().as_ptr(), at, "written in place");
    assert_eq!(bits(&got), bits(&want));
    // The other operands are read, not written.
    assert_eq!(bits(&b), bits(&t(&[3, 4], 1.0)));
    assert_eq!(bits(&c), bits(&t(&[3, 4], 2.0)));
}

#[test]
fn a_shared_buffer_is_left_as_it_was() {
    let f2 = |x: f64, y: f64| x * y - y;
    let b = t(&[3, 4], 1.0);
    let a = t(&[3, 4], 0.0);
    let other = a.clone();
    let before = bits(&other);
    let want = ops::fused2(&a, &b, 0, f2);
    let got = ops::fused2_reusing(a, &b, 0, f2, None, &[]);
    assert_ne!(got.as_slice().as_ptr(), other.as_slice().as_ptr());
    assert_eq!(bits(&other), before, "the other owner's elements");
    assert_eq!(bits(&got), bits(&want));
    // A reshaped view shares the buffer as well.
    let a = t(&[12], 0.0);
    let view = ops::reshape(&a, &[3, 4], 0);
    let before = bits(&a);
    let got = ops::fused1_reusing(view, |x| x + 1.0, None, &[]);
    assert_eq!(bits(&a), before);
    assert_eq!(got.shape(), &[3, 4]);
}

#[test]
fn broadcasting_operands_get_a_new_result() {
    // The result's shape differs from the reused tensor's ([3, 4] from a
    // [1, 4] and a [3, 4]), or the others broadcast ([4] against [3, 4]):
    // the general broadcasting kernel, as `fused2` / `fused3`.
    let f2 = |x: f64, y: f64| x - 2.0 * y;
    let (row, full) = (t(&[1, 4], 0.5), t(&[3, 4], 1.5));
    let want = ops::fused2(&row, &full, 0, f2);
    let got = ops::fused2_reusing(row.clone(), &full, 0, f2, None, &[]);
    assert_eq!((got.shape(), bits(&got)), (want.shape(), bits(&want)));
    let v = t(&[4], 3.0);
    let f3 = |x: f64, y: f64, z: f64| x * y + z;
    let want = ops::fused3(&full, &v, &full, 0, f3);
    let got = ops::fused3_reusing(full.clone(), &v, &full, 0, f3, None, &[]);
    assert_eq!((got.shape(), bits(&got)), (want.shape(), bits(&want)));
}
