//! Calls of functions with custom derivative rules: the function's body and
//! its rules lowered as closed bodies of one `custom` equation (see
//! `prims::custom`).

use std::collections::HashMap;
use std::rc::Rc;

use proc_macro2::Span;
use syn::ItemFn;

use super::{Lower, Val};
use crate::ir::Var;
use crate::prims::Prim;
use crate::prims::custom::{Custom, Rule};
use crate::prims::scan::fresh_id;
use crate::transforms::scan::plain_func;

/// The `#[transforms_custom(kind, rules..)]` marker the custom attributes
/// put on the item they hand over.
pub(super) fn custom_attr(def: &ItemFn) -> Option<(String, Vec<String>)> {
    let attr = def
        .attrs
        .iter()
        .find(|a| a.path().is_ident("transforms_custom"))?;
    let parser = syn::punctuated::Punctuated::<syn::Ident, syn::Token![,]>::parse_terminated;
    let idents = attr.parse_args_with(parser).ok()?;
    let mut it = idents.into_iter().map(|i| i.to_string());
    let kind = it.next()?;
    Some((kind, it.collect()))
}

/// How a closed body's parameters are bound: a tensor parameter gets a
/// fresh var, a scalar the caller's value.
enum Bind {
    Tensor,
    Scalar(Val),
}

impl Lower<'_> {
    /// Lowers `def`'s body alone, its parameters bound by `binds`; returns
    /// the tensor parameter vars and the body (`None` on errors).
    fn closed(
        &mut self,
        def: &ItemFn,
        binds: Vec<Bind>,
        span: Span,
    ) -> Option<(Vec<Var>, Vec<crate::ir::Eqn>, Val)> {
        let names: Vec<String> = def
            .sig
            .inputs
            .iter()
            .map(|a| match a {
                syn::FnArg::Typed(pt) => match &*pt.pat {
                    syn::Pat::Ident(pi) => pi.ident.to_string(),
                    _ => String::new(),
                },
                syn::FnArg::Receiver(_) => String::new(),
            })
            .collect();
        if names.len() != binds.len() {
            self.err(
                span,
                format!(
                    "`{}` has the wrong number of parameters for a rule",
                    def.sig.ident
                ),
            );
            return None;
        }
        let mut scope = HashMap::new();
        let mut params = Vec::new();
        for (n, b) in names.into_iter().zip(binds) {
            let v = match b {
                Bind::Tensor => {
                    let v = self.b.fresh();
                    params.push(v);
                    Val::Tensor(v)
                }
                Bind::Scalar(s) => s,
            };
            scope.insert(n, v);
        }
        let saved_eqns = std::mem::take(&mut self.b.eqns);
        let saved_scopes = std::mem::replace(&mut self.scopes, vec![scope]);
        let value = self.block(&def.block);
        self.scopes = saved_scopes;
        let eqns = std::mem::replace(&mut self.b.eqns, saved_eqns);
        Some((params, eqns, value))
    }

    fn tensors(&mut self, v: &Val, n: usize, what: &str, span: Span) -> Option<Vec<Var>> {
        let flat: Option<Vec<Var>> = match v {
            Val::Tensor(t) => Some(vec![*t]),
            Val::Tuple(vs) => vs
                .iter()
                .map(|v| match v {
                    Val::Tensor(t) => Some(*t),
                    _ => None,
                })
                .collect(),
            _ => None,
        };
        match flat {
            Some(f) if f.len() == n || (n == 0 && !f.is_empty()) => Some(f),
            _ => {
                self.err(span, format!("{what} must return {n} tensor(s)"));
                None
            }
        }
    }

    pub(super) fn custom_call(
        &mut self,
        def: &ItemFn,
        kind: &str,
        rules: &[String],
        vals: Vec<Val>,
        span: Span,
    ) -> Val {
        let name = def.sig.ident.to_string();
        let ins: Vec<Var> = vals
            .iter()
            .filter_map(|v| match v {
                Val::Tensor(t) => Some(*t),
                _ => None,
            })
            .collect();
        let scalars: Vec<Val> = vals
            .iter()
            .filter(|v| matches!(v, Val::Scalar(_)))
            .cloned()
            .collect();
        let binds_f = || -> Vec<Bind> {
            vals.iter()
                .map(|v| match v {
                    Val::Tensor(_) => Bind::Tensor,
                    other => Bind::Scalar(other.clone()),
                })
                .collect()
        };
        let get = |lw: &Self, i: usize| rules.get(i).and_then(|u| lw.defs.get(u)).cloned();
        let Some((pp, peqns, pval)) = self.closed(def, binds_f(), span) else {
            return Val::Error;
        };
        let Some(pout) = self.tensors(&pval, 1, &format!("`{name}`"), span) else {
            return Val::Error;
        };
        let next = |lw: &Self| lw.b.next_var;
        let primal = plain_func(&pp, peqns, pout, next(self));
        let rule = if kind == "custom_jvp" {
            let Some(rdef) = get(self, 0) else {
                return self.err(span, format!("the JVP rule of `{name}` was not found"));
            };
            let mut binds = binds_f();
            binds.extend(ins.iter().map(|_| Bind::Tensor));
            let Some((rp, reqns, rval)) = self.closed(&rdef, binds, span) else {
                return Val::Error;
            };
            let Some(routs) = self.tensors(&rval, 2, &format!("the JVP rule of `{name}`"), span)
            else {
                return Val::Error;
            };
            Rule::Jvp(plain_func(&rp, reqns, routs, next(self)))
        } else {
            let (Some(fdef), Some(bdef)) = (get(self, 0), get(self, 1)) else {
                return self.err(span, format!("the rules of `{name}` were not found"));
            };
            let Some((fp, feqns, fval)) = self.closed(&fdef, binds_f(), span) else {
                return Val::Error;
            };
            let Some(fouts) =
                self.tensors(&fval, 0, &format!("the forward rule of `{name}`"), span)
            else {
                return Val::Error;
            };
            let n_res = fouts.len() - 1;
            let mut binds: Vec<Bind> = scalars.into_iter().map(Bind::Scalar).collect();
            binds.extend((0..n_res + 1).map(|_| Bind::Tensor));
            let Some((bp, beqns, bval)) = self.closed(&bdef, binds, span) else {
                return Val::Error;
            };
            let Some(bouts) = self.tensors(
                &bval,
                ins.len(),
                &format!("the backward rule of `{name}`"),
                span,
            ) else {
                return Val::Error;
            };
            Rule::Vjp {
                fwd: plain_func(&fp, feqns, fouts, next(self)),
                bwd: plain_func(&bp, beqns, bouts, next(self)),
            }
        };
        let custom = Custom {
            id: fresh_id(),
            name,
            primal,
            rule,
        };
        self.emit(span, Prim::Custom(Rc::new(custom)), &ins)
    }
}
