//! Derivative transforms built from JVP, transposition and batching:
//! `grad` = transpose with a ones seed; `jacrev` = vmap of the transpose over
//! an identity basis of cotangents; `jacfwd` = vmap of the JVP over an
//! identity basis of tangents; `hessian` = jacfwd of jacrev.

use std::collections::HashMap;

use super::Body;
use super::jvp::{Linearized, Tangents, jvp_eqns, linearize};
use super::transpose::transpose;
use super::vmap::{Batched, Seed, batch_eqns, close};
use crate::ir::{Builder, Eqn, Func, Scalar, Tree, Var};
use crate::prims::{Const, Layout, Prim, Relayout, WithScalar};

/// How the per-(output, argnum) results are arranged: an int argnum gives
/// one tensor per output, a tuple gives a tuple per output.
fn result_tree(f: &Func, tuple: bool, results: &[Vec<Var>], outs: &mut Vec<Var>) -> Tree {
    f.tree.map_leaves(&mut |k| {
        let mut leaf = |v: Var| {
            outs.push(v);
            Tree::Leaf(outs.len() - 1)
        };
        if tuple {
            Tree::Tuple(results[k].iter().map(|&v| leaf(v)).collect())
        } else {
            leaf(results[k][0])
        }
    })
}

/// The function with `f`'s parameters, `b`'s equations and the results arranged by [`result_tree`].
fn finish(f: &Func, b: Builder, tuple: bool, results: &[Vec<Var>]) -> Func {
    let mut outs = Vec::new();
    let tree = result_tree(f, tuple, results, &mut outs);
    Func {
        params: f.params.clone(),
        eqns: b.eqns,
        outs,
        tree,
        next_var: b.next_var,
    }
}

/// `f`'s primal equations in a new builder, and its linearization.
fn linearized(f: &Func, argnums: &[usize]) -> (Builder, Linearized) {
    let mut b = Builder::new(f.next_var);
    let lin = linearize(&mut b, f, argnums);
    b.eqns.extend(lin.primal.iter().cloned());
    (b, lin)
}

/// The identity basis over `x`'s shape as a symbolic batched seed, and `x`
/// flattened (whose leading dim is the basis size, for closing the level).
fn identity_seed(b: &mut Builder, x: Var) -> (Var, Batched, Var) {
    let zeros = b.emit(Prim::Const(Const::ZerosLike), &[x], 0);
    let ones = b.emit(
        Prim::WithScalar(WithScalar::AddScalar(Scalar::float(1.0))),
        &[zeros],
        0,
    );
    let seed = b.fresh();
    let flat = b.emit(
        Prim::Layout(Layout::Reshape(vec![Scalar::Int(-1)])),
        &[x],
        0,
    );
    (
        seed,
        Batched::seeded(
            seed,
            Seed {
                u: ones,
                like: x,
                t: None,
                unit: true,
            },
        ),
        flat,
    )
}

/// `grad(f, argnums)`: f must have one output, 0-dim at run time.
pub fn grad(f: &Func, argnums: &[usize], tuple: bool) -> Result<Func, String> {
    if f.outs.len() != 1 {
        return Err(format!(
            "grad needs a function with one 0-dim output, but this one returns {} tensors (use jacrev)",
            f.outs.len()
        ));
    }
    let (mut b, lin) = linearized(f, argnums);
    let seed = b.emit(Prim::Const(Const::GradSeed), &[f.outs[0]], 0);
    let cts = transpose(&mut b, &lin, &[Some(seed)])?;
    Ok(finish(f, b, tuple, &[cts]))
}

/// `jacrev(f, argnums)`: each Jacobian has shape `out.shape ++ in.shape`.
pub fn jacrev(f: &Func, argnums: &[usize], tuple: bool) -> Result<Func, String> {
    jacrev_with(f, argnums, tuple, true)
}

/// jacrev; without `unflatten` each Jacobian keeps the basis dim flat,
/// `[numel(out)] ++ in.shape` (for [`hessian`], which unflattens it last).
fn jacrev_with(f: &Func, argnums: &[usize], tuple: bool, unflatten: bool) -> Result<Func, String> {
    let (mut b, lin) = linearized(f, argnums);
    let mut results = Vec::new();
    for (k, &o) in f.outs.iter().enumerate() {
        let (seed, mut bt, flat) = identity_seed(&mut b, o);
        let mut seeds = vec![None; f.outs.len()];
        seeds[k] = Some(seed);
        let (cts, eqns) = b.scoped(|b| transpose(b, &lin, &seeds));
        let cts = cts?;
        batch_eqns(&mut b, &eqns, &mut bt);
        let per_arg = cts
            .iter()
            .map(|&c| {
                let full = close(&mut b, &mut bt, c, flat);
                if !unflatten {
                    return full;
                }
                b.emit(
                    Prim::Relayout(Relayout::UnflattenLike(Scalar::Int(0))),
                    &[full, o],
                    0,
                )
            })
            .collect();
        results.push(per_arg);
    }
    Ok(finish(f, b, tuple, &results))
}

/// `jacfwd(f, argnums)`: each Jacobian has shape `out.shape ++ in.shape`.
pub fn jacfwd(f: &Func, argnums: &[usize], tuple: bool) -> Result<Func, String> {
    jacfwd_with(f, argnums, tuple, None)
}

/// jacfwd; with `symmetric`, `f` is a Hessian's inner jacrev, each output
/// a Jacobian `[numel(out)] ++ in` of the same argument, its basis dim
/// still flat, and `symmetric` holds the `out` tensors to unflatten it
/// against. The tangent basis dim is then placed right after that flat dim
/// instead of at the end: since the Hessian is symmetric in its two `in`
/// blocks, this is the same result, and the move is a swap of two leading
/// dims, which the emitter folds into the product that computes the
/// Jacobian's tangent (`diag_matmul_ta_swapped`) instead of copying the
/// whole result (for a scalar `out` it is no copy at all).
fn jacfwd_with(
    f: &Func,
    argnums: &[usize],
    tuple: bool,
    symmetric: Option<&[Var]>,
) -> Result<Func, String> {
    let mut b = Builder::new(f.next_var);
    b.eqns.extend(f.eqns.iter().cloned());
    let mut results: Vec<Vec<Var>> = vec![Vec::new(); f.outs.len()];
    for &i in argnums {
        let Some(p) = f.params[i].var() else {
            return Err(format!("argument {i} is not a tensor"));
        };
        let (seed, mut bt, flat) = identity_seed(&mut b, p);
        let mut st = Tangents::default();
        st.seed(p, seed);
        let (_, eqns) = b.scoped(|b| jvp_eqns(b, &f.eqns, &mut st, false));
        batch_eqns(&mut b, &eqns, &mut bt);
        for (k, &o) in f.outs.iter().enumerate() {
            let t = match st.tan.get(&o) {
                Some(&t) => t,
                None => b.emit(Prim::Const(Const::ZerosLike), &[o], 0),
            };
            let full = close(&mut b, &mut bt, t, flat);
            let jac = if let Some(outs) = symmetric {
                // [N, o, in..] -> [o, N, in..] -> [out.., N, in..]
                // -> [out.., N, n] -> [out.., in.., n] -> [out.., in.., in..]
                let moved = b.emit(
                    Prim::Layout(Layout::Movedim(Scalar::Int(0), Scalar::Int(1))),
                    &[full],
                    0,
                );
                let out_block = b.emit(
                    Prim::Relayout(Relayout::UnflattenLike(Scalar::Int(0))),
                    &[moved, outs[k]],
                    0,
                );
                let rows = b.emit(
                    Prim::Relayout(Relayout::FlattenLike(Scalar::Int(-1))),
                    &[out_block, p],
                    0,
                );
                let first = b.emit(
                    Prim::Relayout(Relayout::UnflattenLike(Scalar::Int(-2))),
                    &[rows, p],
                    0,
                );
                b.emit(
                    Prim::Relayout(Relayout::UnflattenLike(Scalar::Int(-1))),
                    &[first, p],
                    0,
                )
            } else {
                let last = b.emit(
                    Prim::Layout(Layout::Movedim(Scalar::Int(0), Scalar::Int(-1))),
                    &[full],
                    0,
                );
                b.emit(
                    Prim::Relayout(Relayout::UnflattenLike(Scalar::Int(-1))),
                    &[last, p],
                    0,
                )
            };
            results[k].push(jac);
        }
    }
    Ok(finish(f, b, tuple, &results))
}

/// `hessian(f, argnums)` = `jacfwd(jacrev(f, argnums), argnums)`. With one
/// argument the outer basis dim is placed by symmetry (see [`jacfwd_with`]);
/// with several, block `(a, b)` is not symmetric by itself, so it is placed
/// as jacfwd places it.
pub fn hessian(f: &Func, argnums: &[usize], tuple: bool) -> Result<Func, String> {
    if argnums.len() == 1 {
        let inner = jacrev_with(f, argnums, tuple, false)?;
        return jacfwd_with(&inner, argnums, tuple, Some(&f.outs));
    }
    jacfwd_with(&jacrev(f, argnums, tuple)?, argnums, tuple, None)
}

/// The parts of `vjp(f, argnums)`: the forward program (outputs of `f`
/// followed by the residuals the pullback needs) and the pullback, unbatched
/// and batched over dim 0 of the cotangents.
pub struct VjpParts {
    pub forward: Func,
    pub n_outs: usize,
    pub residuals: Vec<Var>,
    pub cts: Vec<Var>,
    pub pullback: Body,
    pub pullback_batched: Body,
}

pub fn vjp(f: &Func, argnums: &[usize]) -> Result<VjpParts, String> {
    let mut b = Builder::new(f.next_var);
    let lin = linearize(&mut b, f, argnums);
    let cts: Vec<Var> = f.outs.iter().map(|_| b.fresh()).collect();
    let seeds: Vec<Option<Var>> = cts.iter().map(|&c| Some(c)).collect();
    let (res, eqns) = b.scoped(|b| transpose(b, &lin, &seeds));
    let pullback = Body { eqns, outs: res? };
    // The same pullback batched over dim 0 of every cotangent.
    let (outs, eqns) = b.scoped(|b| {
        let reference = cts[0];
        let mut bt = Batched::with([reference]);
        let mut renamed = HashMap::new();
        for &c in &cts[1..] {
            let checked = b.emit(Prim::Relayout(Relayout::AssertBatch), &[c, reference], 0);
            renamed.insert(c, checked);
            bt.vars.insert(checked);
        }
        let eqns: Vec<Eqn> = pullback.eqns.iter().map(|e| e.renamed(&renamed)).collect();
        batch_eqns(b, &eqns, &mut bt);
        let outs: Vec<Var> = pullback
            .outs
            .iter()
            .map(|o| close(b, &mut bt, *renamed.get(o).unwrap_or(o), reference))
            .collect();
        outs
    });
    let pullback_batched = Body { eqns, outs };
    let (forward, residuals) = super::forward_program(
        f,
        lin.primal,
        &[&pullback, &pullback_batched],
        &cts,
        b.next_var,
    );
    Ok(VjpParts {
        forward,
        n_outs: f.outs.len(),
        residuals,
        cts,
        pullback,
        pullback_batched,
    })
}

/// `value_and_grad(f, argnums)`: outputs `(value, grad)`, grad arranged as
/// by [`grad`].
pub fn value_and_grad(f: &Func, argnums: &[usize], tuple: bool) -> Result<Func, String> {
    let g = grad(f, argnums, tuple)?;
    let grad_tree = g.tree.map_leaves(&mut |i| Tree::Leaf(i + 1));
    let mut outs = vec![f.outs[0]];
    outs.extend(g.outs);
    Ok(Func {
        params: g.params,
        eqns: g.eqns,
        outs,
        tree: Tree::Tuple(vec![Tree::Leaf(0), grad_tree]),
        next_var: g.next_var,
    })
}

/// The parts of a chunked `jacrev(f, argnums)`: the forward program
/// (outputs of `f` followed by the residuals) and, per output, a pullback
/// batched over dim 0 of that output's cotangent (the other outputs' are
/// zero), returning one `[chunk, ..in.shape]` tensor per argnum. The caller
/// feeds it rows of the identity basis, `chunk_size` at a time.
pub struct JacrevChunks {
    pub forward: Func,
    pub n_outs: usize,
    pub residuals: Vec<Var>,
    /// (cotangent var, pullback) for each output of `f`.
    pub per_out: Vec<(Var, Body)>,
}

pub fn jacrev_chunks(f: &Func, argnums: &[usize]) -> Result<JacrevChunks, String> {
    let mut b = Builder::new(f.next_var);
    let lin = linearize(&mut b, f, argnums);
    let mut per_out = Vec::new();
    for k in 0..f.outs.len() {
        let ct = b.fresh();
        let mut seeds = vec![None; f.outs.len()];
        seeds[k] = Some(ct);
        let (cts, eqns) = b.scoped(|b| transpose(b, &lin, &seeds));
        let cts = cts?;
        let (outs, eqns) = b.scoped(|b| {
            let mut bt = Batched::with([ct]);
            batch_eqns(b, &eqns, &mut bt);
            cts.iter()
                .map(|&c| close(b, &mut bt, c, ct))
                .collect::<Vec<Var>>()
        });
        let mut body = Body { eqns, outs };
        body.optimize();
        per_out.push((ct, body));
    }
    let bodies: Vec<&Body> = per_out.iter().map(|(_, b)| b).collect();
    let cts: Vec<Var> = per_out.iter().map(|(c, _)| *c).collect();
    let (forward, residuals) = super::forward_program(f, lin.primal, &bodies, &cts, b.next_var);
    Ok(JacrevChunks {
        forward,
        n_outs: f.outs.len(),
        residuals,
        per_out,
    })
}
