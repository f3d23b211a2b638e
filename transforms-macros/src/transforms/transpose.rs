//! Reverse mode: transposition of the linear part of a linearized program.

use std::collections::HashMap;

use super::jvp::Linearized;
use crate::ir::{Builder, Var};
use crate::prims::{Binary, Const, Prim, Transpose};

/// Appends to `b` the transpose of `lin`'s linear part, seeded with the
/// cotangent `seeds[k]` for output k (None: zero). Returns the cotangent of
/// each tangent input, zeros made concrete.
pub fn transpose(
    b: &mut Builder,
    lin: &Linearized,
    seeds: &[Option<Var>],
) -> Result<Vec<Var>, String> {
    let mut ct: HashMap<Var, Var> = HashMap::new();
    let accumulate = |b: &mut Builder, ct: &mut HashMap<Var, Var>, v: Var, c: Var, nb: u8| {
        let total = match ct.get(&v) {
            Some(&old) => b.emit(Prim::Binary(Binary::Add), &[old, c], nb),
            None => c,
        };
        ct.insert(v, total);
    };
    for (t, s) in lin.out_tans.iter().zip(seeds) {
        if let (Some(t), Some(s)) = (t, s) {
            accumulate(b, &mut ct, *t, *s, 0);
        }
    }
    let witness = |v: Var| lin.st.witness.get(&v).copied().unwrap_or(v);
    // Cotangents of scan results, by (token, result).
    let mut results: HashMap<(Var, usize), Var> = HashMap::new();
    for eqn in lin.linear.iter().rev() {
        match &eqn.prim {
            Prim::Proj(k) => {
                if let Some(&c) = ct.get(&eqn.out) {
                    let key = (eqn.ins[0], *k);
                    let total = match results.get(&key) {
                        Some(&old) => b.emit(Prim::Binary(Binary::Add), &[old, c], eqn.nb),
                        None => c,
                    };
                    results.insert(key, total);
                }
                continue;
            }
            Prim::Scan(s) => {
                if !results.keys().any(|(t, _)| *t == eqn.out) {
                    continue;
                }
                b.span = eqn.span;
                let tok = eqn.out;
                let cts = super::scan::transpose_scan(
                    b,
                    eqn,
                    s,
                    &|r| results.get(&(tok, r)).copied(),
                    &|v| lin.st.linear.contains(&v),
                    &witness,
                )?;
                for (v, c) in eqn.ins.iter().zip(cts) {
                    if let Some(c) = c {
                        accumulate(b, &mut ct, *v, c, eqn.nb);
                    }
                }
                continue;
            }
            _ => {}
        }
        let Some(&c) = ct.get(&eqn.out) else { continue };
        b.span = eqn.span;
        let linear = eqn.ins.iter().map(|v| lin.st.linear.contains(v)).collect();
        let cts = eqn.prim.transpose(
            &mut Transpose {
                b,
                eqn,
                linear,
                witness: &witness,
            },
            c,
        )?;
        for (v, c) in eqn.ins.iter().zip(cts) {
            if let Some(c) = c {
                accumulate(b, &mut ct, *v, c, eqn.nb);
            }
        }
    }
    Ok(lin
        .in_tans
        .iter()
        .map(|t| match ct.get(t) {
            Some(&c) => c,
            None => b.emit(Prim::Const(Const::ZerosLike), &[witness(*t)], 0),
        })
        .collect())
}
