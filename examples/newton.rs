//! Newton's method, twice, with every derivative generated at compile time.
//!
//! (a) A nonlinear system F(u) = 0 in R^8: the Bratu-type boundary-value
//!     problem u'' + λ e^u = f on (0, 1), u(0) = u(1) = 0, discretised by
//!     central differences. The forcing f is manufactured so that the
//!     discrete solution is known exactly, u*_i = 2 sin(π t_i). The Jacobian
//!     comes from `#[jacobian]` (forward or reverse mode picked at run time);
//!     the residual calls `#[differentiable]` helper functions; each Newton
//!     step solves J d = -F by Gaussian elimination with partial pivoting.
//! (b) Newton's method for optimisation: the 8-dimensional Rosenbrock
//!     function, minimised with the gradient from `#[value_and_grad]`, the
//!     Hessian from `#[hessian]` and a backtracking (Armijo) line search. The
//!     minimiser is known: (1, ..., 1).
//!
//! Each part asserts that it converged (and panics with a message saying how
//! it did not), so the example doubles as a check.
//!
//! Run: `cargo run --release --example newton`

use transforms::prelude::*;

// ---------------------------------------------------------------------------
// (a) The nonlinear system.

/// The discrete second derivative: `lap` is the tridiagonal matrix
/// (1, -2, 1) / h², with the zero boundary values folded in.
#[differentiable]
fn second_derivative(lap: &Tensor<f64>, u: &Tensor<f64>) -> Tensor<f64> {
    matmul(lap, u)
}

/// The nonlinear reaction term λ e^u.
#[differentiable]
fn reaction(u: &Tensor<f64>, lambda: f64) -> Tensor<f64> {
    u.exp() * lambda
}

/// F(u) = u'' + λ e^u - f at the interior grid points. `#[jacobian]`
/// generates `residual_jacobian(u, lap, f, lambda)` = dF/du, an [n, n]
/// tensor; the calls to the helpers above are inlined before transforming.
#[jacobian]
fn residual(u: &Tensor<f64>, lap: &Tensor<f64>, f: &Tensor<f64>, lambda: f64) -> Tensor<f64> {
    second_derivative(lap, u) + reaction(u, lambda) - f
}

// ---------------------------------------------------------------------------
// (b) The optimisation problem.

/// The n-dimensional Rosenbrock function
/// Σ_{i<n-1} 100 (x_{i+1} - x_i²)² + (1 - x_i)².
/// `head` and `tail` are the constant [n-1, n] selection matrices picking
/// x_0..x_{n-2} and x_1..x_{n-1}.
#[value_and_grad]
#[hessian]
fn rosenbrock(x: &Tensor<f64>, head: &Tensor<f64>, tail: &Tensor<f64>) -> Tensor<f64> {
    let a = matmul(head, x);
    let b = matmul(tail, x);
    ((b - a.square()).square() * 100.0 + (-a + 1.0).square()).sum()
}

// ---------------------------------------------------------------------------
// Plain dense linear algebra, written out here (no dependency).

/// Solves A x = b for a square row-major `a` by Gaussian elimination with
/// partial pivoting. Returns `None` if a pivot is (numerically) zero.
fn solve(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let n = b.len();
    assert_eq!(a.len(), n * n, "solve: A must be {n} x {n}");
    let mut m = a.to_vec();
    let mut x = b.to_vec();
    let scale = a.iter().fold(0.0_f64, |s, v| s.max(v.abs()));
    for k in 0..n {
        let p = (k..n)
            .max_by(|&i, &j| m[i * n + k].abs().total_cmp(&m[j * n + k].abs()))
            .unwrap_or(k);
        if m[p * n + k].abs() <= 1e-14 * scale {
            return None;
        }
        if p != k {
            for j in 0..n {
                m.swap(k * n + j, p * n + j);
            }
            x.swap(k, p);
        }
        for i in k + 1..n {
            let l = m[i * n + k] / m[k * n + k];
            for j in k..n {
                m[i * n + j] -= l * m[k * n + j];
            }
            x[i] -= l * x[k];
        }
    }
    for k in (0..n).rev() {
        let s: f64 = (k + 1..n).map(|j| m[k * n + j] * x[j]).sum();
        x[k] = (x[k] - s) / m[k * n + k];
    }
    Some(x)
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn tensor(shape: &[usize], data: Vec<f64>) -> Tensor<f64> {
    Tensor::from_shape_vec(shape, data).expect("shape matches the data")
}

// ---------------------------------------------------------------------------

fn newton_system() {
    println!("== (a) Newton's method for F(u) = u'' + λ e^u - f = 0 in R^8");
    let n: usize = 8;
    let lambda = 1.0;
    let h = 1.0 / (n + 1) as f64;
    let lap: Vec<f64> = (0..n * n)
        .map(|k| match (k / n).abs_diff(k % n) {
            0 => -2.0 / (h * h),
            1 => 1.0 / (h * h),
            _ => 0.0,
        })
        .collect();
    let lap = tensor(&[n, n], lap);
    let exact: Vec<f64> = (1..=n)
        .map(|i| 2.0 * (std::f64::consts::PI * i as f64 * h).sin())
        .collect();
    let exact = tensor(&[n], exact);
    // Manufacture f so that F(exact) = 0: the residual with f = 0, at exact.
    let f = residual(&exact, &lap, &Tensor::zeros(&[n]), lambda);

    let mut u = Tensor::zeros(&[n]);
    let mut norms = Vec::new();
    println!(" iter   |F(u)|       |F|/|F_prev|^2");
    for iter in 0..20 {
        let r = residual(&u, &lap, &f, lambda).to_vec();
        let rn = norm(&r);
        match norms.last() {
            Some(prev) => println!(" {iter:>4}   {rn:.3e}    {:.3e}", rn / (prev * prev)),
            None => println!(" {iter:>4}   {rn:.3e}"),
        }
        norms.push(rn);
        if rn < 1e-10 {
            break;
        }
        let jac = residual_jacobian(&u, &lap, &f, lambda);
        assert_eq!(jac.shape(), &[n, n]);
        let minus_r: Vec<f64> = r.iter().map(|v| -v).collect();
        let d = solve(jac.as_slice(), &minus_r)
            .unwrap_or_else(|| panic!("newton (a): singular Jacobian at iteration {iter}"));
        u = &u + &tensor(&[n], d);
    }
    let last = *norms.last().unwrap_or(&f64::INFINITY);
    assert!(
        last < 1e-10,
        "newton (a) did not converge: |F(u)| = {last:e} after {} iterations",
        norms.len()
    );
    // Quadratic convergence: once the residual is small, each step squares
    // it (up to a constant), until rounding takes over.
    let quadratic = norms
        .windows(2)
        .filter(|w| w[0] < 1.0 && w[1] > 1e-12)
        .all(|w| w[1] <= 10.0 * w[0] * w[0]);
    assert!(
        quadratic,
        "newton (a): convergence is not quadratic, residual norms {norms:?}"
    );
    let err = u.max_abs_diff(&exact);
    println!(
        "converged in {} Newton steps; max |u - u*| = {err:.2e}",
        norms.len() - 1
    );
    assert!(err < 1e-10, "newton (a): max |u - u*| = {err:e}");
}

fn newton_minimise() {
    println!("\n== (b) Newton's method with backtracking: Rosenbrock in R^8");
    let n = 8;
    let select = |offset: usize| {
        let m: Vec<f64> = (0..(n - 1) * n)
            .map(|k| if k % n == k / n + offset { 1.0 } else { 0.0 })
            .collect();
        tensor(&[n - 1, n], m)
    };
    let (head, tail) = (select(0), select(1));
    // The standard start of CUTEst's GENROSE, x_i = i / (n + 1). (From the
    // alternating start (-1.2, 1, -1.2, ...) Newton finds the chained
    // Rosenbrock's other, local minimiser near (-1, 1, ..., 1), f ≈ 3.99.)
    let start: Vec<f64> = (1..=n).map(|i| i as f64 / (n + 1) as f64).collect();
    let mut x = tensor(&[n], start);
    let mut converged = false;
    println!(" iter   f(x)          |grad f|     shift τ    step");
    for iter in 0..100 {
        let (value, grad) = rosenbrock_value_and_grad(&x, &head, &tail);
        let (fx, g) = (value.item(), grad.to_vec());
        let gn = norm(&g);
        if gn < 1e-10 {
            println!(" {iter:>4}   {fx:.6e}  {gn:.3e}");
            converged = true;
            break;
        }
        let hess = rosenbrock_hessian(&x, &head, &tail);
        assert_eq!(hess.shape(), &[n, n]);
        // The Newton direction H d = -g; where H is not positive definite
        // and d is not a descent direction, shift H by τ I (Levenberg).
        let minus_g: Vec<f64> = g.iter().map(|v| -v).collect();
        let mut tau = 0.0;
        let d = loop {
            let mut h = hess.to_vec();
            for i in 0..n {
                h[i * n + i] += tau;
            }
            match solve(&h, &minus_g) {
                Some(d) if dot(&d, &g) < 0.0 => break d,
                _ => {
                    tau = if tau == 0.0 {
                        1e-3 * gn.max(1.0)
                    } else {
                        tau * 10.0
                    }
                }
            }
            assert!(tau < 1e12, "newton (b): no descent direction at {iter}");
        };
        // Backtracking (Armijo): halve the step until f decreases enough.
        let slope = dot(&d, &g);
        let mut step = 1.0;
        let next = loop {
            // Near the minimiser the predicted decrease drops below the
            // rounding of f, where the Armijo test cannot decide: take the
            // full Newton step there.
            if -slope <= 1e-12 * fx.abs() {
                break &x + &tensor(&[n], d.clone());
            }
            let trial = &x + &(tensor(&[n], d.clone()) * step);
            if rosenbrock(&trial, &head, &tail).item() <= fx + 1e-4 * step * slope {
                break trial;
            }
            step *= 0.5;
            assert!(step > 1e-12, "newton (b): line search failed at {iter}");
        };
        println!(" {iter:>4}   {fx:.6e}  {gn:.3e}    {tau:<9.1e}  {step}");
        x = next;
    }
    assert!(converged, "newton (b) did not converge in 100 iterations");
    let err = x.max_abs_diff(&Tensor::ones(&[n]));
    println!("minimiser: {x}");
    println!("max |x - (1, ..., 1)| = {err:.2e}");
    assert!(err < 1e-8, "newton (b): max |x - 1| = {err:e}");
}

fn main() {
    newton_system();
    newton_minimise();
}
