//! Transposed views at emission: a `t(w)` (possibly lifted by batching into
//! `unsqueeze(t(w), 0)` one or more times) that is only ever read as the
//! matrix input of a kernel that can read its operand transposed is never
//! materialised: the kernel reads `w` (or `unsqueeze(w, 0)`, a free reshape)
//! with its transposed flag instead.

use std::collections::HashMap;

use crate::ir::{Eqn, Scalar, Var};
use crate::prims::{Layout, Prim};

/// The views found in one equation list.
pub struct Views {
    /// View var -> (batch dims its readers have, var holding the untransposed data).
    src: HashMap<Var, (u8, Var)>,
}

fn is_lift(e: &Eqn) -> bool {
    e.nb == 0 && matches!(e.prim, Prim::Layout(Layout::Unsqueeze(Scalar::Int(0))))
}

impl Views {
    pub fn find(eqns: &[Eqn], outs: &[Var]) -> Views {
        let mut level: HashMap<Var, u8> = HashMap::new();
        for e in eqns {
            let lifted = if is_lift(e) {
                e.ins.first().and_then(|v| level.get(v))
            } else {
                None
            };
            if let Some(&l) = lifted {
                level.insert(e.out, l + 1);
            } else if matches!(e.prim, Prim::Layout(Layout::T)) {
                level.insert(e.out, e.nb);
            }
        }
        for v in outs {
            level.remove(v);
        }
        // Drop views with a reader that cannot take them, until none is left.
        loop {
            let mut dropped = false;
            for e in eqns {
                for (i, v) in e.ins.iter().enumerate() {
                    let Some(&l) = level.get(v) else { continue };
                    let reads = e.prim.transposable_input() == Some(i) && e.nb == l;
                    let lifts = is_lift(e) && level.contains_key(&e.out);
                    if !reads && !lifts {
                        level.remove(v);
                        dropped = true;
                    }
                }
                // A lift of a dropped view is materialised normally.
                let input_dropped = e.ins.first().is_none_or(|v| !level.contains_key(v));
                if is_lift(e) && level.contains_key(&e.out) && input_dropped {
                    level.remove(&e.out);
                    dropped = true;
                }
            }
            if !dropped {
                break;
            }
        }
        let src = eqns
            .iter()
            .filter_map(|e| {
                let l = *level.get(&e.out)?;
                let data = if is_lift(e) { e.out } else { *e.ins.first()? };
                Some((e.out, (l, data)))
            })
            .collect();
        Views { src }
    }

    /// Whether `e` defines a view (a `t(w)` that is not emitted, or a lift
    /// that is emitted as a lift of the untransposed data).
    pub fn defines(&self, e: &Eqn) -> bool {
        self.src.contains_key(&e.out)
    }

    /// For a lift that defines a view: the var whose data it lifts.
    pub fn lifted_source(&self, e: &Eqn) -> Option<Var> {
        if !is_lift(e) || !self.defines(e) {
            return None;
        }
        self.src.get(e.ins.first()?).map(|&(_, data)| data)
    }

    /// For an equation reading a view at its transposable input: the var
    /// holding the untransposed data.
    pub fn read_by(&self, e: &Eqn) -> Option<Var> {
        let v = e.ins.get(e.prim.transposable_input()?)?;
        self.src.get(v).map(|&(_, data)| data)
    }
}
