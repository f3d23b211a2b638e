//! `scan`: a loop as one higher-order primitive (JAX's `lax.scan`), and
//! `proj`, which reads one of its results.
//!
//! `tok = scan[body](carry inits.., consts.., xs..)` runs `body(i, carries,
//! consts, xs[it])` for `i` in `start..end` (`it` counting iterations from
//! 0; `reverse` runs them backwards), threading the carries and stacking the
//! per-iteration outputs `ys` along a new leading dim (in index order). Its
//! results are `proj[k](tok)`: the final carries, then the stacks. A stack
//! is a tensor `[n] ++ slice shape` and only scans read it.
//!
//! The rules (JVP with partial evaluation into a primal scan that stacks
//! residuals and a linear scan; transposition into a reversed scan;
//! batching with carries that become batched) apply the transforms to the
//! body and live in `transforms::scan`.

use std::collections::{HashMap, HashSet};
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::Ident;

use crate::codegen::{self, Operand};
use crate::ir::{Func, Scalar, Var};

/// The linear structure of a tangent scan's body (for transposition).
#[derive(Clone, Debug, Default)]
pub struct LinInfo {
    pub linear: HashSet<Var>,
    pub witness: HashMap<Var, Var>,
    /// Per tensor parameter: whether the body is linear in it.
    pub linear_params: Vec<bool>,
}

#[derive(Clone, Debug)]
pub struct Scan {
    pub id: u32,
    pub start: Scalar,
    pub end: Scalar,
    /// The name the body's scalar parameter (the index) has.
    pub index: Ident,
    pub reverse: bool,
    pub n_carry: usize,
    pub n_const: usize,
    pub n_xs: usize,
    /// Parameters: the index (a scalar), then carries, consts and x slices;
    /// outputs: the new carries, then the y slices.
    pub body: Func,
    /// For a tangent scan made by the JVP rule: which of its results is the
    /// tangent of result `k` of the primal scan.
    pub tangent_slot: Vec<Option<usize>>,
    /// For a tangent scan: its body's linear structure.
    pub lin: Option<LinInfo>,
    /// For a `while` loop: how its trip count and scalar state are recorded.
    pub record: Option<Rc<WhileRecord>>,
}

/// A `while` loop's scalar state: its variables (the user's names), their
/// initial values, the condition and the update, all scalar expressions.
/// The loop first runs the scalar part alone, recording the state of every
/// iteration (so the trip count is known and reverse mode can replay it
/// backwards); each iteration of the scan then binds its recorded state.
#[derive(Clone, Debug)]
pub struct WhileRecord {
    pub vars: Vec<Ident>,
    pub inits: Vec<Scalar>,
    pub cond: Scalar,
    pub updates: Vec<Scalar>,
}

impl WhileRecord {
    /// The recorded states: a block expression of type `Vec<(state..,)>`.
    pub fn record(&self) -> TokenStream {
        let (vars, inits, updates) = (
            &self.vars,
            self.inits.iter().map(Scalar::tokens),
            self.updates.iter().map(Scalar::tokens),
        );
        let cond = self.cond.tokens();
        quote! {{
            #[allow(unused_mut, unused_assignments, unused_parens)]
            let mut states = ::std::vec::Vec::new();
            let (#(mut #vars,)*) = (#(#inits,)*);
            while #cond {
                states.push((#(#vars,)*));
                (#(#vars,)*) = (#(#updates,)*);
            }
            states
        }}
    }

    /// The value of state variable `k` after the loop.
    pub fn final_value(&self, k: usize) -> TokenStream {
        let (vars, inits, updates) = (
            &self.vars,
            self.inits.iter().map(Scalar::tokens),
            self.updates.iter().map(Scalar::tokens),
        );
        let cond = self.cond.tokens();
        let v = &self.vars[k];
        quote! {{
            #[allow(unused_mut, unused_assignments, unused_parens)]
            let (#(mut #vars,)*) = (#(#inits,)*);
            while #cond {
                (#(#vars,)*) = (#(#updates,)*);
            }
            #v
        }}
    }
}

static IDS: AtomicU32 = AtomicU32::new(0);

pub fn fresh_id() -> u32 {
    IDS.fetch_add(1, Ordering::Relaxed)
}

impl Scan {
    pub fn arity(&self) -> usize {
        self.n_carry + self.n_const + self.n_xs
    }

    pub fn n_ys(&self) -> usize {
        self.body.outs.len() - self.n_carry
    }

    /// The body's tensor parameter vars, in order.
    pub fn body_params(&self) -> Vec<Var> {
        self.body.params.iter().filter_map(|p| p.var()).collect()
    }

    pub fn name(&self) -> String {
        format!(
            "scan#{}[{}..{}{}; carry {}, const {}, xs {}]",
            self.id,
            self.start.text(),
            if self.record.is_some() {
                "while".to_string()
            } else {
                self.end.text()
            },
            if self.reverse { " rev" } else { "" },
            self.n_carry,
            self.n_const,
            self.n_xs
        )
    }

    /// The loop, as a block expression whose value is the tuple of results.
    pub fn call(&self, rt: &TokenStream, args: &[TokenStream]) -> TokenStream {
        let id = self.id;
        let name = |what: &str, k: usize| {
            format_ident!("__s{}_{}{}", id, what, k, span = Span::mixed_site())
        };
        let params = self.body_params();
        let (nc, nk) = (self.n_carry, self.n_const);
        let carries: Vec<Ident> = (0..nc).map(|k| name("c", k)).collect();
        let consts: Vec<Ident> = (0..nk).map(|k| name("k", k)).collect();
        let xs: Vec<Ident> = (0..self.n_xs).map(|k| name("x", k)).collect();
        let ys: Vec<Ident> = (0..self.n_ys()).map(|k| name("y", k)).collect();
        let next: Vec<Ident> = (0..self.body.outs.len()).map(|k| name("o", k)).collect();
        let it = format_ident!("__s{}_it", id, span = Span::mixed_site());
        let n = format_ident!("__s{}_n", id, span = Span::mixed_site());
        let mut env = HashMap::new();
        for (k, c) in carries.iter().enumerate() {
            env.insert(params[k], Operand::Ref(quote!(&#c)));
        }
        for (k, c) in consts.iter().enumerate() {
            env.insert(params[nc + k], Operand::Ref(quote!(#c)));
        }
        let mut slices = TokenStream::new();
        for (k, x) in xs.iter().enumerate() {
            let s = codegen::var_ident(params[nc + nk + k]);
            slices.extend(quote!(let #s = #rt::ops::stack_index(#x, #it);));
            env.insert(params[nc + nk + k], Operand::Owned(s));
        }
        let body = codegen::stmts(&self.body.eqns, &self.body.outs, &mut env);
        let outs = codegen::take(&env, &self.body.outs);
        let (start, end, index) = (self.start.tokens(), self.end.tokens(), &self.index);
        let rec = format_ident!("__s{}_rec", id, span = Span::mixed_site());
        let (prepass, start, end, bind) = match &self.record {
            Some(r) => {
                let record = r.record();
                let vars = &r.vars;
                (
                    quote!(let #rec = #record;),
                    quote!(0usize),
                    quote!(#rec.len()),
                    quote!(let (#(#vars,)*) = #rec[#it];),
                )
            }
            None => (quote!(), start, end, quote!()),
        };
        let range = if self.reverse {
            quote!(((#start)..(#end)).enumerate().rev())
        } else {
            quote!(((#start)..(#end)).enumerate())
        };
        let (new_c, new_y) = next.split_at(nc);
        let checks: Vec<TokenStream> = carries
            .iter()
            .zip(new_c)
            .enumerate()
            .map(|(k, (c, n))| quote!(#rt::ops::check_carry(&#c, &#n, #k);))
            .collect();
        let finish_ys = if self.reverse {
            quote!(#(#ys.reverse();)*)
        } else {
            quote!()
        };
        let stacked: Vec<TokenStream> = ys
            .iter()
            .map(|y| quote!(#rt::ops::stack_all(&#y)))
            .collect();
        let init_c = &args[..nc];
        let init_k = &args[nc..nc + nk];
        let init_x = &args[nc + nk..];
        quote! {{
            #(let mut #carries = ::core::clone::Clone::clone(#init_c);)*
            #(let #consts = #init_k;)*
            #(let #xs = #init_x;)*
            #prepass
            let #n = ::core::iter::Iterator::count((#start)..(#end));
            #(let mut #ys = ::std::vec::Vec::with_capacity(#n);)*
            #[allow(unused_variables)]
            for (#it, #index) in #range {
                #bind
                #slices
                #body
                let (#(#next,)*) = (#(#outs,)*);
                #(#checks)*
                #(#carries = #new_c;)*
                #(#ys.push(#new_y);)*
            }
            #finish_ys
            (#(#carries,)* #(#stacked,)*)
        }}
    }
}
