//! The `Tensor` API: constructors, accessors, dims, formatting, operators.

mod common;

use common::{t32, t64};
use ndarray::array;
use transforms_runtime::{Error, Tensor, linear, matmul};

#[test]
fn from_shape_vec_checks_length() {
    let err = Tensor::<f32>::from_shape_vec(&[2, 3], vec![1.0; 5]).unwrap_err();
    assert!(matches!(
        err,
        Error::Shape {
            op: "from_shape_vec",
            ..
        }
    ));
    let msg = err.to_string();
    assert!(msg.starts_with("transforms: from_shape_vec:"), "{msg}");
    assert!(msg.contains("[2, 3]") && msg.contains('5'), "{msg}");
    let ok = Tensor::<f32>::from_shape_vec(&[2, 3], (0..6).map(|x| x as f32).collect()).unwrap();
    assert_eq!(ok.shape(), &[2, 3]);
    assert_eq!((ok.ndim(), ok.numel()), (2, 6));
    assert_eq!(ok.to_vec(), vec![0., 1., 2., 3., 4., 5.]);
}

#[test]
fn constructors() {
    assert_eq!(Tensor::<f32>::zeros(&[2]).to_vec(), vec![0.0, 0.0]);
    assert_eq!(Tensor::<f64>::ones(&[1, 2]).to_vec(), vec![1.0, 1.0]);
    assert_eq!(Tensor::<f32>::full(&[3], 2.5).to_vec(), vec![2.5; 3]);
    assert_eq!(Tensor::<f32>::eye(2).to_vec(), vec![1., 0., 0., 1.]);
    let s = Tensor::scalar(4.0f64);
    assert_eq!(s.shape(), &[] as &[usize]);
    assert_eq!(s.item(), 4.0);
    assert_eq!(t32(&[1, 1], &[7.0]).item(), 7.0);
}

#[test]
#[should_panic(expected = "transforms: item")]
fn item_needs_one_element() {
    t32(&[2], &[1.0, 2.0]).item();
}

#[test]
fn randn_is_deterministic_and_standard_normal() {
    let a = Tensor::<f64>::randn(&[100, 100], 7);
    let b = Tensor::<f64>::randn(&[100, 100], 7);
    let c = Tensor::<f64>::randn(&[100, 100], 8);
    assert_eq!(a.to_vec(), b.to_vec());
    assert_ne!(a.to_vec(), c.to_vec());
    let v = a.to_vec();
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / v.len() as f64;
    assert!(mean.abs() < 0.03, "mean {mean}");
    assert!((var - 1.0).abs() < 0.05, "var {var}");
    // odd element counts work and prefixes agree
    let odd = Tensor::<f32>::randn(&[3], 1);
    assert_eq!(odd.numel(), 3);
    assert_eq!(
        Tensor::<f32>::randn(&[4], 1).to_vec()[..3],
        odd.to_vec()[..]
    );
}

#[test]
fn ndarray_round_trip_keeps_standard_layout() {
    let a = array![[1.0f32, 2.0, 3.0], [4.0, 5.0, 6.0]];
    let t: Tensor<f32> = a.clone().reversed_axes().into(); // a non-standard layout input
    assert_eq!(t.shape(), &[3, 2]);
    assert_eq!(t.to_vec(), vec![1., 4., 2., 5., 3., 6.]);
    assert_eq!(t.view().shape(), &[3, 2]);
    assert_eq!(Tensor::from(a.clone()).to_ndarray(), a.into_dyn());
}

#[test]
fn select_unbind_stack_movedim() {
    let x = t64(&[2, 3], &[0., 1., 2., 3., 4., 5.]);
    assert_eq!(x.select(0, 1).to_vec(), vec![3., 4., 5.]);
    assert_eq!(x.select(-1, 2).to_vec(), vec![2., 5.]);
    let cols = x.unbind(1);
    assert_eq!(cols.len(), 3);
    assert_eq!(cols[1].to_vec(), vec![1., 4.]);
    let back = Tensor::stack(&cols, 1);
    assert_eq!(back.shape(), &[2, 3]);
    assert_eq!(back.to_vec(), x.to_vec());
    let s0 = Tensor::stack(&x.unbind(0), 0);
    assert_eq!(s0.to_vec(), x.to_vec());
    let s_last = Tensor::stack(&[t64(&[2], &[1., 2.]), t64(&[2], &[3., 4.])], -1);
    assert_eq!(s_last.shape(), &[2, 2]);
    assert_eq!(s_last.to_vec(), vec![1., 3., 2., 4.]);
    let y = common::rand(&[2, 3, 4], 3);
    let m = y.movedim(0, -1);
    assert_eq!(m.shape(), &[3, 4, 2]);
    assert_eq!(m.select(2, 1).to_vec(), y.select(0, 1).to_vec());
}

#[test]
#[should_panic(
    expected = "transforms: stack: all tensors must have the same shape, shapes [2] and [3]"
)]
fn stack_shape_mismatch() {
    Tensor::stack(&[t32(&[2], &[1., 2.]), t32(&[3], &[1., 2., 3.])], 0);
}

#[test]
#[should_panic(expected = "transforms: select: index 3 is out of range")]
fn select_out_of_range() {
    t32(&[2, 3], &[0.; 6]).select(1, 3);
}

#[test]
fn allclose_and_max_abs_diff() {
    let a = t64(&[2], &[1.0, 2.0]);
    let b = t64(&[2], &[1.0, 2.0 + 1e-9]);
    assert!(a.allclose(&b, 1e-6, 0.0));
    assert!(!a.allclose(&t64(&[2], &[1.0, 2.1]), 1e-3, 1e-3));
    assert!(!a.allclose(&t64(&[1, 2], &[1.0, 2.0]), 1.0, 1.0));
    assert!(!t64(&[1], &[f64::NAN]).allclose(&t64(&[1], &[f64::NAN]), 1.0, 1.0));
    assert!((a.max_abs_diff(&t64(&[2], &[0.5, 2.25])) - 0.5).abs() < 1e-15);
}

#[test]
fn display_and_debug() {
    let x = t32(&[2, 2], &[1.0, 2.0, 3.0, 4.0]);
    assert_eq!(
        format!("{x}"),
        "Tensor(shape=[2, 2], [[1.0, 2.0], [3.0, 4.0]])"
    );
    assert_eq!(format!("{x:?}"), format!("{x}"));
    assert_eq!(
        format!("{}", Tensor::scalar(0.5f64)),
        "Tensor(shape=[], 0.5)"
    );
    assert_eq!(
        format!("{}", Tensor::<f32>::zeros(&[0, 2])),
        "Tensor(shape=[0, 2], [])"
    );
    let big = format!("{}", Tensor::<f32>::zeros(&[2000]));
    assert!(big.contains("...") && big.len() < 100, "{big}");
}

#[test]
fn operators_broadcast_and_scalars() {
    let a = t32(&[2, 2], &[1., 2., 3., 4.]);
    let b = t32(&[2], &[10., 20.]);
    assert_eq!((&a + &b).to_vec(), vec![11., 22., 13., 24.]);
    assert_eq!((a.clone() - &b).to_vec(), vec![-9., -18., -7., -16.]);
    assert_eq!((&a * b.clone()).to_vec(), vec![10., 40., 30., 80.]);
    assert_eq!((a.clone() / a.clone()).to_vec(), vec![1.; 4]);
    assert_eq!((a.clone() + &a).to_vec(), vec![2., 4., 6., 8.]);
    assert_eq!((&a + 1.0).to_vec(), vec![2., 3., 4., 5.]);
    assert_eq!((a.clone() * 2.0).to_vec(), vec![2., 4., 6., 8.]);
    assert_eq!((&a - 1.0).to_vec(), vec![0., 1., 2., 3.]);
    assert_eq!((a.clone() / 2.0).to_vec(), vec![0.5, 1., 1.5, 2.]);
    assert_eq!((1.0f32 - &a).to_vec(), vec![0., -1., -2., -3.]);
    assert_eq!((12.0f32 / a.clone()).to_vec(), vec![12., 6., 4., 3.]);
    assert_eq!((2.0f32 * &a).to_vec(), vec![2., 4., 6., 8.]);
    assert_eq!((1.0f32 + a.clone()).to_vec(), vec![2., 3., 4., 5.]);
    let d = t64(&[2], &[1., -2.]);
    assert_eq!((3.0f64 - &d).to_vec(), vec![2., 5.]);
    assert_eq!((-&d).to_vec(), vec![-1., 2.]);
    assert_eq!((-d).to_vec(), vec![-1., 2.]);
}

#[test]
#[should_panic(expected = "transforms: add: shapes do not broadcast, shapes [2, 3] and [4]")]
fn operator_shape_mismatch_panics() {
    let _ = Tensor::<f32>::zeros(&[2, 3]) + Tensor::<f32>::zeros(&[4]);
}

#[test]
fn methods_match_torch() {
    let x = t64(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    assert_eq!(x.sum().item(), 21.0);
    assert_eq!(x.mean().item(), 3.5);
    assert_eq!(x.sum_dim(0).to_vec(), vec![5., 7., 9.]);
    assert_eq!(x.mean_dim(-1).to_vec(), vec![2., 5.]);
    assert_eq!(x.t().shape(), &[3, 2]);
    assert_eq!(x.t().to_vec(), vec![1., 4., 2., 5., 3., 6.]);
    assert_eq!(x.transpose(0, 1).to_vec(), x.t().to_vec());
    assert_eq!(x.reshape(&[3, -1]).shape(), &[3, 2]);
    assert_eq!(x.unsqueeze(-1).shape(), &[2, 3, 1]);
    assert_eq!(x.square().to_vec(), vec![1., 4., 9., 16., 25., 36.]);
    assert_eq!(x.powf(0.5).to_vec(), x.sqrt().to_vec());
    assert_eq!(x.neg().relu().to_vec(), vec![0.; 6]);
    assert_eq!(x.recip().to_vec()[1], 0.5);
    assert!((x.ln().exp().to_vec()[2] - 3.0).abs() < 1e-12);
    assert!((x.sin().square() + x.cos().square()).allclose(&Tensor::ones(&[2, 3]), 1e-12, 1e-12));
    assert!((x.tanh().to_vec()[0] - 1f64.tanh()).abs() < 1e-15);
    assert!((x.sigmoid().to_vec()[0] - 1.0 / (1.0 + (-1f64).exp())).abs() < 1e-15);
    let v = t64(&[3], &[1., 2., 3.]);
    assert_eq!(v.t().to_vec(), v.to_vec());
    assert_eq!(v.matmul(&v).item(), 14.0);
    assert_eq!(matmul(&x, &v).to_vec(), vec![14., 32.]);
}

#[test]
#[should_panic(expected = "transforms: t: expects at most 2 per-example dims, shape [1, 2, 3]")]
fn t_rejects_3d() {
    Tensor::<f32>::zeros(&[1, 2, 3]).t();
}

#[test]
fn linear_layer() {
    // x: [2, 3], w: [2, 3], b: [2]
    let x = t64(&[2, 3], &[1., 2., 3., 4., 5., 6.]);
    let w = t64(&[2, 3], &[1., 0., -1., 0.5, 0.5, 0.5]);
    let b = t64(&[2], &[10., 20.]);
    let y = linear(&x, &w, &b);
    assert_eq!(y.shape(), &[2, 2]);
    assert_eq!(
        y.to_vec(),
        vec![1. - 3. + 10., 3. + 20., 4. - 6. + 10., 7.5 + 20.]
    );
    let y1 = linear(&x.select(0, 1), &w, &b);
    assert_eq!(y1.shape(), &[2]);
    assert_eq!(y1.to_vec(), vec![8., 27.5]);
    let x3 = common::rand(&[4, 5, 3], 1);
    let want = matmul(&x3, &w.t()) + &b;
    common::assert_tensor_close(&linear(&x3, &w, &b), &want);
    let scalar_bias = linear(&x, &w, &Tensor::scalar(1.0));
    assert_eq!(scalar_bias.to_vec(), vec![-1., 4., -1., 8.5]);
}

#[test]
#[should_panic(expected = "transforms: linear: the inner dimensions do not match (3 vs 2)")]
fn linear_shape_mismatch() {
    linear(
        &Tensor::<f32>::zeros(&[4, 3]),
        &Tensor::zeros(&[5, 2]),
        &Tensor::zeros(&[5]),
    );
}
