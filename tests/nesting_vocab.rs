//! Nestings through the selection, softmax-family and slicing vocabulary,
//! with an unmapped input so that the batched kernels broadcast batch dims
//! inside transposed programs: jacrev(vmap) against a loop, jacfwd(vmap)
//! and vmap(jacrev) against it, hessian(vmap) against finite differences,
//! vmap(hessian) against a loop and a Hessian-vector product against the
//! Hessian.

mod common;

use common::*;

mod body {
    use transforms::prelude::*;

    #[jacrev(argnums = 1)]
    #[hessian(argnums = 1)]
    #[jvp(grad(argnums = 1), argnums = 1, name = f_hvp)]
    #[jacrev(vmap(in_dims = (0, None)), argnums = 1, name = f_jac_of_vmap)]
    #[jacfwd(vmap(in_dims = (0, None)), argnums = 1, name = f_jacfwd_of_vmap)]
    #[vmap(jacrev(argnums = 1), in_dims = (0, None), name = f_vmap_of_jac)]
    #[hessian(vmap(in_dims = (0, None)), argnums = 1, name = f_hess_of_vmap)]
    #[vmap(hessian(argnums = 1), in_dims = (0, None), name = f_vmap_of_hess)]
    pub fn f(x: &Tensor<f64>, w: &Tensor<f64>) -> Tensor<f64> {
        let h = w.matmul(x);
        let ws = w.sum_dim(1);
        // Batched and unbatched parts (under vmap over x).
        let c = cat(&[&h, x, &ws.narrow(0, 2, 1)], 0);
        let other = cat(&[&ws, &ws.index_select(0, &[0, 0, 1, 3])], -1);
        let m = maximum(&c, &other) + minimum(&c, &(other * 0.5));
        let s = where_(&x.gt(0.0), &x.exp(), &w.max_dim(0));
        let y = stack(&[&s, &x.clamp(-0.5, 0.5), &h.narrow(0, 1, 3)], 0);
        (m.softmax(0) * &m).sum()
            + y.log_softmax(-1).sum() * 0.1
            + y.logsumexp(-2).sum()
            + (w * x).norm()
            + (x.abs() * h.narrow(0, -3, 3).exp2()).log1p().sum()
    }
}

#[test]
fn nestings_through_the_new_vocabulary() {
    use body::*;
    let (xs, w) = (T64::randn(&[5, 3], 60), T64::randn(&[4, 3], 61));
    let j = f_jac_of_vmap(&xs, &w);
    assert_eq!(j.shape(), &[5, 4, 3]);
    let rows: Vec<T64> = xs.unbind(0).iter().map(|x| f_jacrev(x, &w)).collect();
    close("jacrev(vmap) == loop", &j, &T64::stack(&rows, 0), 1e-12);
    close("jacfwd(vmap)", &f_jacfwd_of_vmap(&xs, &w), &j, 1e-12);
    close("vmap(jacrev)", &f_vmap_of_jac(&xs, &w), &j, 1e-12);
    let t = T64::randn(&[4, 3], 62);
    let fd_j = fd(
        |w| T64::stack(&xs.unbind(0).iter().map(|x| f(x, w)).collect::<Vec<_>>(), 0),
        &w,
        &t,
    );
    close("jacrev(vmap) t vs fd", &jac_vec(&j, &[5], &t), &fd_j, 1e-6);
    let h = f_hess_of_vmap(&xs, &w);
    assert_eq!(h.shape(), &[5, 4, 3, 4, 3]);
    let fd_h = fd(|w| f_jac_of_vmap(&xs, w), &w, &t);
    close(
        "hessian(vmap) t vs fd",
        &jac_vec(&h, &[5, 4, 3], &t),
        &fd_h,
        1e-6,
    );
    let hs: Vec<T64> = xs.unbind(0).iter().map(|x| f_hessian(x, &w)).collect();
    close(
        "vmap(hessian) == loop",
        &f_vmap_of_hess(&xs, &w),
        &T64::stack(&hs, 0),
        1e-12,
    );
    close(
        "hessian(vmap) == vmap(hessian)",
        &h,
        &T64::stack(&hs, 0),
        1e-12,
    );
    let x = xs.select(0, 2);
    let (_, hv) = f_hvp(&x, &w, &t);
    close(
        "hvp == H t",
        &hv,
        &jac_vec(&f_hessian(&x, &w), &[4, 3], &t),
        1e-12,
    );
}

mod single {
    use transforms::prelude::*;

    #[grad]
    #[vmap(grad, name = g_batch)]
    pub fn g(x: &Tensor) -> Tensor {
        x.exp2().sum() + x.clamp(-10.0, 10.0).max_dim(0) * 0.0
    }
}

#[test]
fn f32_bodies_work_too() {
    let x = transforms::Tensor::<f32>::from_shape_vec(&[3], vec![0.0, 1.0, -2.0]).unwrap();
    let want = [1.0f32, 2.0, 0.25].map(|v| v * std::f32::consts::LN_2);
    let g = single::g_grad(&x).to_vec();
    assert!(
        g.iter().zip(want).all(|(a, b)| (a - b).abs() < 1e-6),
        "{g:?}"
    );
    let xs = transforms::Tensor::stack(&[x.clone(), x], 0);
    assert_eq!(single::g_batch(&xs).shape(), &[2, 3]);
}
