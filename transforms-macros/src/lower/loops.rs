//! Loops and assignment: `for i in a..b { .. }` (also `a..=b` and
//! `(a..b).rev()`) over scalar bounds, carrying the tensors the body
//! assigns (`x = ..;` to a name bound outside the loop). A loop lowers to
//! one `scan` (see `prims::scan`): its body is lowered once, whatever the
//! trip count, and the transforms apply to the body.

use std::collections::HashMap;
use std::rc::Rc;

use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::{Expr, Pat, RangeLimits};

use super::{Lower, Val};
use crate::ir::scalar::ScalarOp;
use crate::ir::{Scalar, Var};
use crate::prims::Prim;
use crate::prims::scan::{Scan, fresh_id};
use crate::transforms::scan::body_func;

/// Names assigned (`name = ..`) anywhere in a loop body, in order.
struct Assigned(Vec<String>);

impl<'ast> Visit<'ast> for Assigned {
    fn visit_expr_assign(&mut self, a: &'ast syn::ExprAssign) {
        if let Expr::Path(p) = &*a.left
            && let Some(id) = p.path.get_ident()
            && !self.0.contains(&id.to_string())
        {
            self.0.push(id.to_string());
        }
        syn::visit::visit_expr_assign(self, a);
    }

    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

impl Lower<'_> {
    /// `name = value`: rebinds the nearest binding of `name`.
    pub(super) fn assign(&mut self, a: &syn::ExprAssign) -> Val {
        let unit = Val::Tuple(Vec::new());
        let name = match &*a.left {
            Expr::Path(p) if p.path.get_ident().is_some() => {
                p.path.get_ident().map(|i| i.to_string())
            }
            _ => None,
        };
        let Some(name) = name else {
            self.err_node(&a.left, "only a plain name can be assigned");
            return unit;
        };
        let v = self.expr(&a.right);
        match (self.lookup(&name), &v) {
            (None, _) => {
                self.err_node(
                    &a.left,
                    format!("unknown name `{name}`: bind it with `let mut` first"),
                );
                return unit;
            }
            (Some(Val::Scalar(_)), _) => {
                self.err_node(
                    &a.left,
                    format!("`{name}` is a scalar: scalars are constants of a transformed function and cannot be reassigned"),
                );
                return unit;
            }
            (Some(Val::Tensor(_)), Val::Scalar(_) | Val::Tuple(_)) => {
                self.err_node(
                    &a.right,
                    format!("`{name}` is a tensor: assign a tensor to it"),
                );
                return unit;
            }
            _ => {}
        }
        for scope in self.scopes.iter_mut().rev() {
            if let Some(slot) = scope.get_mut(&name) {
                *slot = v;
                break;
            }
        }
        unit
    }

    /// The bounds of `a..b`, `a..=b` or `(a..b).rev()`.
    fn range(&mut self, e: &Expr) -> Option<(Scalar, Scalar, bool)> {
        match e {
            Expr::Paren(p) => self.range(&p.expr),
            Expr::MethodCall(m) if m.method == "rev" && m.args.is_empty() => {
                let (s, e, r) = self.range(&m.receiver)?;
                Some((s, e, !r))
            }
            Expr::Range(r) => {
                let (Some(s), Some(end)) = (&r.start, &r.end) else {
                    self.err_node(r, "a loop needs both bounds: `for i in a..b`");
                    return None;
                };
                let (s, end) = (self.scalar(s), self.scalar(end));
                let (s, end) = (s?, end?);
                let end = match r.limits {
                    RangeLimits::HalfOpen(_) => end,
                    RangeLimits::Closed(_) => end.bin(ScalarOp::Add, Scalar::Int(1)),
                };
                Some((s, end, false))
            }
            other => {
                self.err_node(
                    other,
                    "a loop runs over a range of scalars or integers: `for i in 0..n` (or `a..=b`, `(a..b).rev()`)",
                );
                None
            }
        }
    }

    pub(super) fn for_loop(&mut self, f: &syn::ExprForLoop) -> Val {
        let unit = Val::Tuple(Vec::new());
        if let Some(l) = &f.label {
            self.err_node(l, "loop labels are not supported");
        }
        let index = match &*f.pat {
            Pat::Ident(pi) if pi.subpat.is_none() => pi.ident.clone(),
            Pat::Wild(_) => format_ident!("__index", span = Span::mixed_site()),
            other => {
                self.err_node(other, "the loop variable must be a plain name or `_`");
                return unit;
            }
        };
        let Some((start, end, reverse)) = self.range(&f.expr) else {
            return unit;
        };
        let mut names = Assigned(Vec::new());
        names.visit_block(&f.body);
        let carries: Vec<(String, Var)> = names
            .0
            .into_iter()
            .filter_map(|n| match self.lookup(&n) {
                Some(Val::Tensor(v)) => Some((n, v)),
                _ => None,
            })
            .collect();
        // The body, lowered once into its own equation list.
        let saved = std::mem::take(&mut self.b.eqns);
        let params: Vec<Var> = carries.iter().map(|_| self.b.fresh()).collect();
        let mut scope = HashMap::new();
        scope.insert(index.to_string(), Val::Scalar(Scalar::expr(quote!(#index))));
        for ((n, _), p) in carries.iter().zip(&params) {
            scope.insert(n.clone(), Val::Tensor(*p));
        }
        self.scopes.push(scope);
        self.block_with(&f.body, false);
        let loop_scope = self.scopes.pop().unwrap_or_default();
        let eqns = std::mem::replace(&mut self.b.eqns, saved);
        let mut outs = Vec::new();
        for (n, _) in &carries {
            match loop_scope.get(n) {
                Some(Val::Tensor(v)) => outs.push(*v),
                _ => return unit,
            }
        }
        // What the body reads from outside becomes its constants.
        let defined: std::collections::HashSet<Var> = eqns
            .iter()
            .map(|e| e.out)
            .chain(params.iter().copied())
            .collect();
        let mut consts: Vec<Var> = Vec::new();
        for v in eqns.iter().flat_map(|e| e.ins.iter()).chain(&outs) {
            if !defined.contains(v) && !consts.contains(v) {
                consts.push(*v);
            }
        }
        let rename: HashMap<Var, Var> = consts.iter().map(|&v| (v, self.b.fresh())).collect();
        let eqns = eqns.iter().map(|e| e.renamed(&rename)).collect();
        let outs = outs.iter().map(|o| *rename.get(o).unwrap_or(o)).collect();
        let mut all_params = params.clone();
        all_params.extend(consts.iter().map(|c| rename[c]));
        let body = body_func(&index, &all_params, eqns, outs, self.b.next_var);
        let scan = Scan {
            id: fresh_id(),
            start,
            end,
            index,
            reverse,
            n_carry: carries.len(),
            n_const: consts.len(),
            n_xs: 0,
            body,
            tangent_slot: Vec::new(),
            lin: None,
        };
        let mut ins: Vec<Var> = carries.iter().map(|(_, v)| *v).collect();
        ins.extend(&consts);
        let tok = self.emit_var(f.span(), Prim::Scan(Rc::new(scan)), &ins);
        for (k, (n, _)) in carries.iter().enumerate() {
            let v = self.emit_var(f.span(), Prim::Proj(k), &[tok]);
            for scope in self.scopes.iter_mut().rev() {
                if let Some(slot) = scope.get_mut(n) {
                    *slot = Val::Tensor(v);
                    break;
                }
            }
        }
        unit
    }
}
