//! The property tests over the generated programs (see the crate docs):
//! one `#[test]` per program, each running `TRANSFORMS_PROPTEST_CASES`
//! proptest cases of random inputs, tangent and cotangent.

use proptest::collection::vec;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestError, TestRng, TestRunner};
use transforms_proptest_programs::{HELPERS_SOURCE, PROGRAMS, Program, SEED, T64};

/// Rows of the `vmap` check.
const BATCH: usize = 3;
/// Central finite differences: step and relative tolerance.
const FD_STEP: f64 = 1e-6;
const FD_TOL: f64 = 1e-5;
/// Two exact computations of the same number (different association only).
const EXACT: f64 = 1e-9;
/// Inputs, tangents and cotangents are drawn from `[-RANGE, RANGE]`.
const RANGE: f64 = 2.0;

type Check = Result<(), TestCaseError>;

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

/// Runs one transform, turning a panic into a failure that names it.
fn run<R>(what: &str, f: impl FnOnce() -> R) -> Result<R, TestCaseError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|e| {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        fail(format!("{what} panicked: {msg}"))
    })
}

fn numel(s: &[usize]) -> usize {
    s.iter().product()
}

/// The pieces one case's values are cut into: the arguments, the tangent of
/// `x{argnum}`, the output cotangent, then the other rows of the batch.
fn pieces(p: &Program) -> Vec<(String, Vec<usize>)> {
    let mut out: Vec<(String, Vec<usize>)> = p
        .shapes
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("x{i}"), s.to_vec()))
        .collect();
    out.push((
        format!("tangent of x{}", p.argnum),
        p.shapes[p.argnum].to_vec(),
    ));
    out.push(("output cotangent".into(), p.out_shape.to_vec()));
    for row in 1..BATCH {
        for (i, d) in p.in_dims.iter().enumerate() {
            if d.is_some() {
                out.push((format!("vmap row {row} of x{i}"), p.shapes[i].to_vec()));
            }
        }
    }
    out
}

fn tensors(p: &Program, values: &[f64]) -> Vec<T64> {
    let mut at = 0;
    pieces(p)
        .iter()
        .map(|(_, s)| {
            let n = numel(s);
            let t = T64::from_shape_vec(s, values[at..at + n].to_vec()).expect("piece shape");
            at += n;
            t
        })
        .collect()
}

/// `max |a - b| <= tol * max(1, |a|, |b|)`, and every value finite.
fn close(what: &str, a: &T64, b: &T64, tol: f64) -> Check {
    if a.shape() != b.shape() {
        return Err(fail(format!(
            "{what}: shapes differ, {:?} and {:?}",
            a.shape(),
            b.shape()
        )));
    }
    let (av, bv) = (a.to_vec(), b.to_vec());
    if let Some(v) = av.iter().chain(&bv).find(|v| !v.is_finite()) {
        return Err(fail(format!("{what}: non-finite value {v}\n{a}\n{b}")));
    }
    let scale = av.iter().chain(&bv).fold(1.0f64, |m, v| m.max(v.abs()));
    let err = av
        .iter()
        .zip(&bv)
        .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
    if err > tol * scale {
        return Err(fail(format!(
            "{what}: max abs diff {err:e} > {tol:e} * {scale}\nleft:\n{a}\nright:\n{b}"
        )));
    }
    Ok(())
}

fn shape(what: &str, t: &T64, want: &[usize]) -> Check {
    if t.shape() != want {
        return Err(fail(format!(
            "{what}: shape {:?}, expected {want:?}",
            t.shape()
        )));
    }
    Ok(())
}

fn dot(a: &T64, b: &T64) -> f64 {
    a.to_vec().iter().zip(b.to_vec()).map(|(x, y)| x * y).sum()
}

/// `x + eps t`.
fn step(x: &T64, t: &T64, eps: f64) -> T64 {
    let v = x
        .to_vec()
        .iter()
        .zip(t.to_vec())
        .map(|(a, b)| a + eps * b)
        .collect();
    T64::from_shape_vec(x.shape(), v).expect("same shape")
}

/// The central difference of `f` along `t` in argument `k`.
fn fd(f: fn(&[T64]) -> T64, args: &[T64], k: usize, t: &T64) -> T64 {
    let at = |eps: f64| {
        let mut a = args.to_vec();
        a[k] = step(&args[k], t, eps);
        f(&a)
    };
    let (plus, minus) = (at(FD_STEP), at(-FD_STEP));
    step(
        &T64::zeros(plus.shape()),
        &step(&plus, &minus, -1.0),
        0.5 / FD_STEP,
    )
}

/// `J t` for a Jacobian of shape `out ++ in`.
fn jac_vec(j: &T64, out: &[usize], t: &T64) -> T64 {
    let tv = t.to_vec();
    let v = j
        .to_vec()
        .chunks(tv.len().max(1))
        .map(|row| row.iter().zip(&tv).map(|(a, b)| a * b).sum())
        .collect();
    T64::from_shape_vec(out, v).expect("J t shape")
}

/// `J^T ct`.
fn jac_t_vec(j: &T64, ct: &T64, input: &[usize]) -> T64 {
    let n = numel(input);
    let mut g = vec![0.0; n];
    for (row, c) in j.to_vec().chunks(n.max(1)).zip(ct.to_vec()) {
        for (gi, r) in g.iter_mut().zip(row) {
            *gi += r * c;
        }
    }
    T64::from_shape_vec(input, g).expect("J^T ct shape")
}

fn check(p: &Program, values: &[f64]) -> Check {
    let ts = tensors(p, values);
    let np = p.shapes.len();
    let args = &ts[..np];
    let (t, ct) = (&ts[np], &ts[np + 1]);
    let k = p.argnum;
    let input = p.shapes[k];
    let y = run("the function", || (p.f)(args))?;
    shape("output", &y, p.out_shape)?;
    close("output is finite", &y, &y, 0.0)?;
    let jac_shape = [p.out_shape, input].concat();

    let jr = run("jacrev", || (p.jacrev)(args))?;
    shape("jacrev", &jr, &jac_shape)?;
    let jf = run("jacfwd", || (p.jacfwd)(args))?;
    close("jacfwd vs jacrev", &jf, &jr, EXACT)?;
    let jt = jac_vec(&jr, p.out_shape, t);
    close(
        "J t (from jacrev) vs central finite differences",
        &jt,
        &run("the function", || fd(p.f, args, k, t))?,
        FD_TOL,
    )?;

    let (y1, ty) = run("jvp", || (p.jvp)(args, t))?;
    close("jvp primal vs f", &y1, &y, EXACT)?;
    close("jvp tangent vs J t", &ty, &jt, EXACT)?;

    let (y2, g) = run("vjp", || (p.vjp)(args, ct))?;
    close("vjp primal vs f", &y2, &y, EXACT)?;
    close(
        "vjp cotangent vs J^T ct",
        &g,
        &jac_t_vec(&jr, ct, input),
        EXACT,
    )?;
    let (lhs, rhs) = (dot(ct, &ty), dot(&g, t));
    if (lhs - rhs).abs() > EXACT * (1.0 + lhs.abs().max(rhs.abs())) {
        return Err(fail(format!(
            "<ct, J t> = {lhs} (jvp) but <J^T ct, t> = {rhs} (vjp)"
        )));
    }

    // vmap against a loop of calls: row 0 is `args`, the others are drawn.
    let mut extra = ts[np + 2..].iter();
    let mut rows: Vec<Vec<T64>> = vec![args.to_vec()];
    for _ in 1..BATCH {
        let row = (0..np)
            .map(|i| match p.in_dims[i] {
                Some(_) => extra.next().expect("a batch row").clone(),
                None => args[i].clone(),
            })
            .collect();
        rows.push(row);
    }
    let batched: Vec<T64> = (0..np)
        .map(|i| match p.in_dims[i] {
            Some(d) => {
                let items: Vec<T64> = rows.iter().map(|r| r[i].clone()).collect();
                T64::stack(&items, d as isize)
            }
            None => args[i].clone(),
        })
        .collect();
    let looped: Vec<T64> = run("the function", || rows.iter().map(|r| (p.f)(r)).collect())?;
    close(
        "vmap vs a loop of calls",
        &run("vmap", || (p.vmap)(&batched))?,
        &T64::stack(&looped, p.out_dim as isize),
        EXACT,
    )?;
    let jacs: Vec<T64> = run("jacrev", || rows.iter().map(|r| (p.jacrev)(r)).collect())?;
    close(
        "vmap(jacrev) vs a loop of jacrev calls",
        &run("vmap(jacrev)", || (p.vmap_jacrev)(&batched))?,
        &T64::stack(&jacs, 0),
        EXACT,
    )?;

    if let Some(hessian) = p.hessian {
        let h = run("hessian", || hessian(args))?;
        shape("hessian", &h, &[input, input].concat())?;
        let n = numel(input);
        let hv = h.to_vec();
        let scale = hv.iter().fold(1.0f64, |m, v| m.max(v.abs()));
        for i in 0..n {
            for j in 0..i {
                let (a, b) = (hv[i * n + j], hv[j * n + i]);
                if (a - b).abs() > EXACT * scale || !a.is_finite() {
                    return Err(fail(format!(
                        "hessian not symmetric: H[{i}, {j}] = {a}, H[{j}, {i}] = {b}\n{h}"
                    )));
                }
            }
        }
        close(
            "H t vs central finite differences of the gradient (jacrev)",
            &jac_vec(&h, input, t),
            &run("jacrev", || fd(p.jacrev, args, k, t))?,
            FD_TOL,
        )?;
    }
    Ok(())
}

/// The message of a failing program: what failed, the shrunk input, how to
/// reproduce, and the program's source.
fn report(p: &Program, why: &str, values: &[f64]) -> String {
    let mut s = format!(
        "transforms property test: program `{}` failed: {why}\n\n",
        p.name
    );
    s += &format!(
        "Generated from seed {SEED:#018x} (program {}). Reproduce with\n    \
         TRANSFORMS_PROPTEST_SEED={SEED:#x} TRANSFORMS_PROPTEST_N={} \
         cargo test -p transforms-proptest-programs --test properties -- --exact {}\n\n",
        p.index,
        p.index + 1,
        p.name
    );
    s += "The shrunk input:\n";
    for ((name, _), t) in pieces(p).iter().zip(tensors(p, values)) {
        s += &format!("{name} = {t}\n");
    }
    s += &format!("\nThe program:\n{}", p.source);
    if p.calls_helpers {
        s += &format!("\nThe helpers it calls (module `helpers`):\n{HELPERS_SOURCE}");
    }
    s
}

fn check_program(p: &Program) {
    let cases = std::env::var("TRANSFORMS_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(8);
    let config = Config {
        cases,
        failure_persistence: None,
        max_shrink_iters: 256,
        ..Config::default()
    };
    // A fixed stream per program and seed, so every run draws the same cases.
    let mut key = [0u8; 32];
    key[..8].copy_from_slice(&SEED.to_le_bytes());
    key[8..16].copy_from_slice(&(p.index as u64).to_le_bytes());
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &key);
    let mut runner = TestRunner::new_with_rng(config, rng);
    let n: usize = pieces(p).iter().map(|(_, s)| numel(s)).sum();
    let result = runner.run(&vec(-RANGE..RANGE, n), |values| check(p, &values));
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, values)) => panic!("{}", report(p, &why.to_string(), &values)),
        Err(TestError::Abort(why)) => panic!("program `{}`: proptest aborted: {why}", p.name),
    }
}

include!(concat!(env!("OUT_DIR"), "/tests.rs"));

#[test]
fn every_program_is_in_the_table() {
    for (i, p) in PROGRAMS.iter().enumerate() {
        assert_eq!((p.index, p.name), (i, format!("p{i}").as_str()));
        assert!(p.source.contains(&format!("pub fn {}(", p.name)));
    }
}
