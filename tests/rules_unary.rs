//! The rule table, one-input primitives (f64): JVP against central finite
//! differences, VJP against the inner-product identity, vmap against a loop,
//! jacfwd against jacrev, and second order (grad, hessian = jacrev(jacrev) =
//! jacfwd(jacfwd), symmetric, H t against finite differences of grad), which
//! exercises the rules of the primitives the transforms emit; the same for
//! the (vector-valued) function itself, through every pair of modes.

mod common;

unary_case!(neg, [3, 4], false, |x| x.neg());
unary_case!(unary_minus, [5], false, |x| -x);
unary_case!(exp, [3, 4], false, |x| x.exp());
unary_case!(ln, [3, 4], true, |x| x.ln());
unary_case!(sin, [3, 4], false, |x| x.sin());
unary_case!(cos, [3, 4], false, |x| x.cos());
unary_case!(tanh, [3, 4], false, |x| x.tanh());
unary_case!(sqrt, [3, 4], true, |x| x.sqrt());
unary_case!(sigmoid, [3, 4], false, |x| x.sigmoid());
unary_case!(relu, [3, 4], false, |x| x.relu() * x);
unary_case!(square, [3, 4], false, |x| x.square());
unary_case!(recip, [3, 4], true, |x| x.recip());
unary_case!(powf, [3, 4], true, |x| x.powf(2.5));
unary_case!(add_scalar, [4], false, |x| (x + 2.0) * x);
unary_case!(scalar_add, [4], false, |x| (2.0 + x) * x);
unary_case!(sub_scalar, [4], false, |x| (x - 2.0).square());
unary_case!(scalar_sub, [4], false, |x| (2.0 - x).square());
unary_case!(mul_scalar, [4], false, |x| x * 3.0 * x);
unary_case!(div_scalar, [4], false, |x| (x / 2.0).exp());
unary_case!(scalar_div, [4], true, |x| 2.0 / x);
unary_case!(sum_all, [3, 4], false, |x| x.sum().square());
unary_case!(sum_dim, [3, 4], false, |x| x.sum_dim(1).square());
unary_case!(sum_dim_neg, [2, 3, 4], false, |x| x.sum_dim(-2).sin());
unary_case!(mean_all, [3, 4], false, |x| x.mean().exp());
unary_case!(mean_dim, [3, 4], false, |x| x.mean_dim(0).square());
unary_case!(t, [3, 4], false, |x| x.t().tanh() * x.t());
unary_case!(t_1d, [4], false, |x| x.t().square());
unary_case!(transpose, [2, 3, 4], false, |x| x.transpose(0, 2).sin()
    * x.transpose(0, 2));
unary_case!(reshape, [3, 4], false, |x| x
    .reshape(&[2, -1])
    .square()
    .reshape(&[12]));
unary_case!(unsqueeze, [3, 4], false, |x| x.unsqueeze(1).square());
unary_case!(clone, [3], false, |x| x.clone().square());
unary_case!(self_mul, [3, 4], false, |x| x * x * x);
unary_case!(self_div, [3, 4], true, |x| (x + 1.0) / x);
unary_case!(self_matmul, [3, 3], false, |x| x.matmul(x).tanh());
unary_case!(zero_dim, [], false, |x| x.exp() * x);
unary_case!(let_and_blocks, [3], false, |x| {
    let y = x.sin();
    let y = {
        let z = &y * 2.0;
        z + x
    };
    y.square()
});
