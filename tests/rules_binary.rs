//! The rule table, two-input primitives (f64), with broadcasting and every
//! matmul rank case: JVP in both inputs against finite differences, VJP
//! against the inner-product identity, vmap against a loop, jacfwd against
//! jacrev, and the block Hessian of the sum against jacrev(jacrev) and
//! jacfwd(jacfwd) and finite differences of the gradient.

mod common;

binary_case!(add, [3, 4], [3, 4], false, |a, b| (a + b).square());
binary_case!(add_broadcast, [3, 4], [4], false, |a, b| (a + b).square());
binary_case!(add_broadcast_left, [4], [3, 1], false, |a, b| (a + b).sin());
binary_case!(sub, [3, 4], [3, 4], false, |a, b| (a - b).square());
binary_case!(sub_broadcast, [3], [2, 1], false, |a, b| (a - b).square());
binary_case!(mul, [3, 4], [3, 4], false, |a, b| a * b);
binary_case!(mul_broadcast, [2, 3, 4], [3, 1], false, |a, b| a * b * a);
binary_case!(mul_scalar_tensor, [3, 4], [], false, |a, b| a * b);
binary_case!(div, [3, 4], [3, 4], true, |a, b| a / b);
binary_case!(div_broadcast, [4], [3, 4], true, |a, b| a / b);
binary_case!(matmul_2d_2d, [3, 4], [4, 2], false, |a, b| matmul(a, b)
    .tanh());
binary_case!(matmul_1d_2d, [4], [4, 2], false, |a, b| matmul(a, b).tanh());
binary_case!(matmul_2d_1d, [3, 4], [4], false, |a, b| matmul(a, b).tanh());
binary_case!(matmul_1d_1d, [4], [4], false, |a, b| matmul(a, b).tanh());
binary_case!(matmul_batched, [2, 3, 4], [4, 2], false, |a, b| a
    .matmul(b)
    .tanh());
binary_case!(
    matmul_batched_broadcast,
    [2, 1, 3, 4],
    [5, 4, 2],
    false,
    |a, b| a.matmul(b).sin()
);
binary_case!(matmul_1d_batched, [4], [2, 4, 3], false, |a, b| a
    .matmul(b)
    .sin());
binary_case!(linear_1d, [4], [3, 4], false, |x, w| linear(
    x,
    w,
    &w.sum_dim(1)
)
.tanh());
binary_case!(linear_2d, [5, 4], [3, 4], false, |x, w| linear(
    x,
    w,
    &w.mean_dim(1)
)
.sigmoid());
binary_case!(energy, [4], [4, 4], false, |x, m| (x.matmul(m).matmul(x)
    + (x * x).sum() * 0.5)
    .sin());
