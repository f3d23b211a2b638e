//! Control flow and assignment: `for i in a..b { .. }` (also `a..=b` and
//! `(a..b).rev()`) over scalar bounds, `while` on scalar state, `if`/`else`
//! on scalar conditions, carrying the tensors the body assigns (`x = ..;`
//! or `x += ..;` to a name bound outside). Each lowers to `scan`s (see
//! `prims::scan`): a body is lowered once, whatever the trip count, and the
//! transforms apply to the body. An `if` is two chained scans of trip count
//! 0 or 1; a `while` records its scalar state first.

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
use crate::prims::scan::{Scan, WhileRecord, fresh_id};
use crate::prims::{Const, Prim};
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

    fn visit_expr_binary(&mut self, b: &'ast syn::ExprBinary) {
        if is_compound(&b.op)
            && let Expr::Path(p) = &*b.left
            && let Some(id) = p.path.get_ident()
            && !self.0.contains(&id.to_string())
        {
            self.0.push(id.to_string());
        }
        syn::visit::visit_expr_binary(self, b);
    }

    fn visit_expr_closure(&mut self, _: &'ast syn::ExprClosure) {}

    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// `+= -= *= /=`.
pub(super) fn is_compound(op: &syn::BinOp) -> bool {
    matches!(
        op,
        syn::BinOp::AddAssign(_)
            | syn::BinOp::SubAssign(_)
            | syn::BinOp::MulAssign(_)
            | syn::BinOp::DivAssign(_)
    )
}

/// The user's identifier of the first assignment to `name` in `block`.
struct FirstIdent<'a>(&'a str, Option<syn::Ident>);

impl<'ast> Visit<'ast> for FirstIdent<'_> {
    fn visit_expr(&mut self, e: &'ast Expr) {
        let left = match e {
            Expr::Assign(a) => Some(&*a.left),
            Expr::Binary(b) if is_compound(&b.op) => Some(&*b.left),
            _ => None,
        };
        if self.1.is_none()
            && let Some(Expr::Path(p)) = left
            && let Some(id) = p.path.get_ident()
            && id == self.0
        {
            self.1 = Some(id.clone());
        }
        syn::visit::visit_expr(self, e);
    }
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
            (Some(Val::Scalar(_)), Val::Scalar(_)) if self.mutable_scalars.contains(&name) => {}
            (Some(Val::Scalar(_)), _) => {
                self.err_node(
                    &a.left,
                    format!("`{name}` is a scalar: scalars are constants of a transformed function; only the state of a `while` loop (assigned in its body, read by its condition) may change"),
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

    /// `x += v` (and `-= *= /=`): `x = x + v`.
    pub(super) fn compound(&mut self, b: &syn::ExprBinary) -> Val {
        let op: syn::BinOp = match b.op {
            syn::BinOp::AddAssign(t) => syn::BinOp::Add(syn::Token![+](t.spans[0])),
            syn::BinOp::SubAssign(t) => syn::BinOp::Sub(syn::Token![-](t.spans[0])),
            syn::BinOp::MulAssign(t) => syn::BinOp::Mul(syn::Token![*](t.spans[0])),
            syn::BinOp::DivAssign(t) => syn::BinOp::Div(syn::Token![/](t.spans[0])),
            _ => return self.err_node(&b.op, "unsupported compound assignment"),
        };
        let value = Expr::Binary(syn::ExprBinary {
            attrs: Vec::new(),
            left: b.left.clone(),
            op,
            right: b.right.clone(),
        });
        let assign = syn::ExprAssign {
            attrs: Vec::new(),
            left: b.left.clone(),
            eq_token: Default::default(),
            right: Box::new(value),
        };
        self.assign(&assign)
    }

    /// `while cond { .. }`: the condition reads scalar state that the body
    /// updates (`k += 1`); the body may also assign `let mut` tensors. The
    /// scalar part is run first to record every iteration's state (the trip
    /// count), then the tensors go through one scan over the recorded
    /// iterations, so every transform applies and reverse mode replays the
    /// recorded states backwards.
    pub(super) fn while_loop(&mut self, w: &syn::ExprWhile) -> Val {
        let unit = Val::Tuple(Vec::new());
        if let Some(l) = &w.label {
            self.err_node(l, "loop labels are not supported");
        }
        let mut names = Assigned(Vec::new());
        names.visit_block(&w.body);
        let mut state: Vec<(String, syn::Ident, Scalar)> = Vec::new();
        for n in &names.0 {
            if let Some(Val::Scalar(init)) = self.lookup(n) {
                let mut fi = FirstIdent(n, None);
                fi.visit_block(&w.body);
                if let Some(id) = fi.1 {
                    state.push((n.clone(), id, init));
                }
            }
        }
        if state.is_empty() {
            return self.err_node(
                &w.cond,
                "a `while` loop must update scalar state that its condition reads (e.g. `k += 1` with `let mut k = 0;` before the loop); conditions on tensor values are not supported",
            );
        }
        let carries = self.carried(&[&w.body]);
        let range = Range {
            index: format_ident!("__step", span = Span::mixed_site()),
            start: Scalar::Int(0),
            end: Scalar::Int(0),
            reverse: false,
        };
        let added: Vec<String> = state.iter().map(|(n, ..)| n.clone()).collect();
        self.mutable_scalars.extend(added.iter().cloned());
        let mut record = None;
        self.scan_over(
            w.while_token.span,
            range,
            &carries,
            |lw| {
                for (n, id, _) in &state {
                    if let Some(scope) = lw.scopes.last_mut() {
                        scope.insert(n.clone(), Val::Scalar(Scalar::expr(quote!(#id))));
                    }
                }
                let cond = lw.condition(&w.cond);
                lw.block_with(&w.body, false);
                let updates: Option<Vec<Scalar>> = state
                    .iter()
                    .map(|(n, ..)| match lw.lookup(n) {
                        Some(Val::Scalar(s)) => Some(s),
                        _ => None,
                    })
                    .collect();
                let r = match (cond, updates) {
                    (Some(cond), Some(updates)) => Some(Rc::new(WhileRecord {
                        vars: state.iter().map(|(_, id, _)| id.clone()).collect(),
                        inits: state.iter().map(|(.., s)| s.clone()).collect(),
                        cond,
                        updates,
                    })),
                    _ => None,
                };
                record = r.clone();
                (Val::Tuple(Vec::new()), r)
            },
            |_, n| (n == 0).then(Vec::new),
        );
        self.mutable_scalars.retain(|n| !added.contains(n));
        // The state after the loop, for code after it.
        if let Some(r) = record {
            for (k, (n, ..)) in state.iter().enumerate() {
                self.rebind(n, Val::Scalar(Scalar::expr(r.final_value(k))));
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
        let carries = self.carried(&[&f.body]);
        let range = Range {
            index,
            start,
            end,
            reverse,
        };
        self.scan_over(
            f.span(),
            range,
            &carries,
            |lw| {
                lw.block_with(&f.body, false);
                (Val::Tuple(Vec::new()), None)
            },
            |_, n| (n == 0).then(Vec::new),
        );
        unit
    }

    /// The tensors bound outside that `blocks` assign: a loop's carries.
    fn carried(&self, blocks: &[&syn::Block]) -> Vec<(String, Var)> {
        let mut names = Assigned(Vec::new());
        for b in blocks {
            names.visit_block(b);
        }
        names
            .0
            .into_iter()
            .filter_map(|n| match self.lookup(&n) {
                Some(Val::Tensor(v)) => Some((n, v)),
                _ => None,
            })
            .collect()
    }

    /// Lowers `body` once as the body of a scan over `range`, carrying the
    /// tensors bound to `carries` (rebound to the scan's results afterwards)
    /// and, as extra carries, the tensors of the body's value, whose initial
    /// values `inits` gives from their count. Returns the body's value (for
    /// its structure) and the extra carries' results. What the body reads
    /// from outside becomes the scan's constants.
    fn scan_over(
        &mut self,
        span: Span,
        range: Range,
        carries: &[(String, Var)],
        body: impl FnOnce(&mut Self) -> (Val, Option<Rc<WhileRecord>>),
        inits: impl FnOnce(&mut Self, usize) -> Option<Vec<Var>>,
    ) -> Option<(Val, Vec<Var>)> {
        let saved = std::mem::take(&mut self.b.eqns);
        let params: Vec<Var> = carries.iter().map(|_| self.b.fresh()).collect();
        let mut scope = HashMap::new();
        let index = &range.index;
        scope.insert(index.to_string(), Val::Scalar(Scalar::expr(quote!(#index))));
        for ((n, _), p) in carries.iter().zip(&params) {
            scope.insert(n.clone(), Val::Tensor(*p));
        }
        self.scopes.push(scope);
        let (value, record) = body(self);
        let loop_scope = self.scopes.pop().unwrap_or_default();
        let eqns = std::mem::replace(&mut self.b.eqns, saved);
        let extra_outs = flatten(&value)?;
        let extra = inits(self, extra_outs.len())?;
        let mut outs = Vec::new();
        for (n, _) in carries {
            match loop_scope.get(n) {
                Some(Val::Tensor(v)) => outs.push(*v),
                _ => return None,
            }
        }
        outs.extend(&extra_outs);
        // The extra carries' previous values are not read by the body.
        let mut params = params;
        params.extend(extra.iter().map(|_| self.b.fresh()));
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
        let n_carry = carries.len() + extra.len();
        let body = body_func(&range.index, &all_params, eqns, outs, self.b.next_var);
        let scan = Scan {
            id: fresh_id(),
            start: range.start,
            end: range.end,
            index: range.index,
            reverse: range.reverse,
            n_carry,
            n_const: consts.len(),
            n_xs: 0,
            body,
            tangent_slot: Vec::new(),
            lin: None,
            record,
        };
        let mut ins: Vec<Var> = carries.iter().map(|(_, v)| *v).collect();
        ins.extend(&extra);
        ins.extend(&consts);
        let tok = self.emit_var(span, Prim::Scan(Rc::new(scan)), &ins);
        let results: Vec<Var> = (0..n_carry)
            .map(|k| self.emit_var(span, Prim::Proj(k), &[tok]))
            .collect();
        for ((n, _), v) in carries.iter().zip(&results) {
            self.rebind(n, Val::Tensor(*v));
        }
        Some((value, results[carries.len()..].to_vec()))
    }

    fn rebind(&mut self, name: &str, v: Val) {
        for scope in self.scopes.iter_mut().rev() {
            if let Some(slot) = scope.get_mut(name) {
                *slot = v;
                break;
            }
        }
    }

    /// `if c { .. } else { .. }` on a scalar condition: each branch is a scan
    /// that runs once or not at all (trip count `c as usize`, then
    /// `!c as usize`), chained, so exactly one branch runs and every
    /// transform applies the scan's rules. The branches' value (a tensor or
    /// a tuple of tensors) is an extra carry.
    pub(super) fn if_expr(&mut self, e: &syn::ExprIf) -> Val {
        let Some(cond) = self.condition(&e.cond) else {
            return Val::Error;
        };
        let else_block = e.else_branch.as_ref().map(|(_, b)| &**b);
        let mut blocks = vec![&e.then_branch];
        let else_wrapped;
        if let Some(b) = else_block {
            else_wrapped = syn::Block {
                brace_token: Default::default(),
                stmts: vec![syn::Stmt::Expr(b.clone(), None)],
            };
            blocks.push(&else_wrapped);
        }
        let carries = self.carried(&blocks);
        let c = cond.tokens();
        let guard = |taken: bool| Range {
            index: format_ident!("__branch", span = Span::mixed_site()),
            start: Scalar::Int(0),
            end: if taken {
                Scalar::expr(quote!(((#c) as usize)))
            } else {
                Scalar::expr(quote!(((!(#c)) as usize)))
            },
            reverse: false,
        };
        let then = &e.then_branch;
        let got = self.scan_over(
            e.if_token.span,
            guard(true),
            &carries,
            |lw| (lw.branch(then), None),
            |lw, n| {
                let p = lw.placeholder();
                Some(vec![p; n])
            },
        );
        let Some((shape, then_vals)) = got else {
            return Val::Error;
        };
        let vals = match else_block {
            Some(eb) => {
                // The carries as the then branch left them.
                let carries_now: Vec<(String, Var)> = carries
                    .iter()
                    .filter_map(|(n, _)| match self.lookup(n) {
                        Some(Val::Tensor(v)) => Some((n.clone(), v)),
                        _ => None,
                    })
                    .collect();
                let n = then_vals.len();
                let got = self.scan_over(
                    e.if_token.span,
                    guard(false),
                    &carries_now,
                    |lw| {
                        let v = match eb {
                            Expr::Block(b) if b.label.is_none() => lw.branch(&b.block),
                            other => lw.expr(other),
                        };
                        (v, None)
                    },
                    |_, m| (m == n).then(|| then_vals.clone()),
                );
                match got {
                    Some((_, v)) => v,
                    None => {
                        return self.err_node(
                            eb,
                            "both branches of an `if` must have the same kind of value (a tensor, a tuple of tensors, or nothing)",
                        );
                    }
                }
            }
            None if then_vals.is_empty() => then_vals,
            None => {
                return self.err_node(e, "an `if` without `else` cannot have a value");
            }
        };
        rebuild(&shape, &mut vals.into_iter())
    }

    /// A branch's value: its tail expression, or nothing (unit) when it
    /// ends with a statement.
    fn branch(&mut self, block: &syn::Block) -> Val {
        match block.stmts.last() {
            Some(syn::Stmt::Expr(_, None)) => self.block(block),
            _ => {
                self.block_with(block, false);
                Val::Tuple(Vec::new())
            }
        }
    }

    /// A scalar boolean condition (comparisons and `&& || !` of scalars).
    fn condition(&mut self, e: &Expr) -> Option<Scalar> {
        match self.expr(e) {
            Val::Scalar(s) => Some(s),
            Val::Error => None,
            _ => {
                self.err_node(
                    e,
                    "an `if` condition must be a scalar (parameters, loop indices); for a choice per element use `where_`",
                );
                None
            }
        }
    }

    /// Some tensor var to shape an unused carry's initial value.
    fn placeholder(&mut self) -> Var {
        let any = self
            .scopes
            .iter()
            .flat_map(|s| s.values())
            .find_map(|v| match v {
                Val::Tensor(t) => Some(*t),
                _ => None,
            });
        match any {
            Some(t) => self.b.emit(Prim::Const(Const::ZerosLike), &[t], 0),
            None => self.b.fresh(),
        }
    }
}

/// Where a loop runs.
struct Range {
    index: syn::Ident,
    start: Scalar,
    end: Scalar,
    reverse: bool,
}

/// The tensors of a value (a tensor, a tuple of tensors, or unit).
fn flatten(v: &Val) -> Option<Vec<Var>> {
    match v {
        Val::Tensor(t) => Some(vec![*t]),
        Val::Tuple(vs) => {
            let mut out = Vec::new();
            for v in vs {
                out.extend(flatten(v)?);
            }
            Some(out)
        }
        Val::Scalar(_) | Val::Error => None,
    }
}

/// `shape` with its tensors replaced, in order, by `vars`.
fn rebuild(shape: &Val, vars: &mut impl Iterator<Item = Var>) -> Val {
    match shape {
        Val::Tensor(_) => vars.next().map_or(Val::Error, Val::Tensor),
        Val::Tuple(vs) => Val::Tuple(vs.iter().map(|v| rebuild(v, vars)).collect()),
        other => other.clone(),
    }
}
