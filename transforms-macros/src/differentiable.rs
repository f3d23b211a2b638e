//! `#[differentiable]`: makes a function callable from transformed functions
//! (and from `transform!`). The function itself is emitted unchanged; beside
//! it, once its own callees are resolved and its body checked, the hand-off
//! macro that carries its body (see `handoff`).

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ItemFn;
use syn::spanned::Spanned;
use syn::visit::Visit;

use crate::errors::Errors;
use crate::handoff::{self, Def, Job, State};
use crate::lower::lower;

/// Calls of the function to itself.
struct SelfCalls<'a> {
    name: &'a syn::Ident,
    found: Vec<Span>,
}

impl<'ast> Visit<'ast> for SelfCalls<'_> {
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let syn::Expr::Path(p) = &*c.func
            && p.path
                .segments
                .last()
                .is_some_and(|s| &s.ident == self.name)
        {
            self.found.push(c.span());
        }
        syn::visit::visit_expr_call(self, c);
    }
}

pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item_fn: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let e = e.into_compile_error();
            return quote!(#item #e);
        }
    };
    let mut errs = Errors::default();
    if !attr.is_empty() {
        errs.spanned(&attr, "`#[differentiable]` takes no arguments");
    }
    let mut sc = SelfCalls {
        name: &item_fn.sig.ident,
        found: Vec::new(),
    };
    sc.visit_block(&item_fn.block);
    for s in sc.found {
        errs.at(
            s,
            "a differentiable function cannot call itself: its body is inlined at every call; \
             write the recursion as a loop",
        );
    }
    let rest = match errs.into_result() {
        Ok(()) => handoff::drive(
            Job::Differentiable {
                item: item_fn.clone(),
            },
            State::default(),
        ),
        Err(e) => e.into_compile_error(),
    };
    quote!(#item_fn #rest)
}

/// Every callee resolved: check the body and emit the hand-off macro.
pub fn finish(item: &ItemFn, state: &State) -> TokenStream {
    let mut errs = Errors::default();
    let renamed = handoff::renamed(item, state);
    if lower(&renamed, state, &mut errs).is_none() && errs.is_empty() {
        errs.at(
            item.sig.ident.span(),
            "transforms: internal error: lowering failed silently",
        );
    }
    if let Err(e) = errs.into_result() {
        return e.into_compile_error();
    }
    let mut defs = vec![Def {
        unique: handoff::unique_name(item),
        item: renamed,
    }];
    defs.extend(state.defs.iter().cloned());
    handoff::callee_macro(&item.vis, &item.sig.ident, &defs)
}
