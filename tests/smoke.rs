use transforms::prelude::*;

#[jacrev(argnums = 2)]
#[jacfwd(argnums = 2)]
#[vjp(argnums = 2)]
#[grad(argnums = 2, name = predict_sum_grad_unused)]
#[vmap(hessian(argnums = 2), in_dims = (None, None, 0), name = batch_hessian)]
#[vmap(jacrev(argnums = 2), in_dims = (None, None, 0), name = batch_jacobian)]
#[hessian(argnums = 2)]
fn predict(weight: &Tensor, bias: &Tensor, x: &Tensor) -> Tensor {
    linear(x, weight, bias).tanh()
}

#[test]
fn smoke() {
    let (w, b, x) = (Tensor::randn(&[3, 4], 0), Tensor::randn(&[3], 1), Tensor::randn(&[4], 2));
    let j1 = predict_jacrev(&w, &b, &x);
    let j2 = predict_jacfwd(&w, &b, &x);
    println!("{j1}\n{j2}");
    assert!(j1.allclose(&j2, 1e-5, 1e-5));
    let (out, pb) = predict_vjp(&w, &b, &x);
    let rows = pb.vmap(&Tensor::eye(3));
    assert!(rows.allclose(&j1, 1e-5, 1e-5));
    let _ = out;
    let xs = Tensor::randn(&[5, 4], 3);
    let bh = batch_hessian(&w, &b, &xs);
    assert_eq!(bh.shape(), &[5, 3, 4, 4]);
    let h = predict_hessian(&w, &b, &x);
    assert!(h.allclose(&bh.select(0, 0).clone(), 1e10, 1e10));
}
