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
use crate::handoff::{self, CustomSpec, Def, Job, State};
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

/// `#[differentiable]` (`custom` None) or `#[custom_jvp(rule)]` /
/// `#[custom_vjp(fwd, bwd)]` (`custom` the attribute's name).
pub fn expand(attr: TokenStream, item: TokenStream, custom: Option<&str>) -> TokenStream {
    let item_fn: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let e = e.into_compile_error();
            return quote!(#item #e);
        }
    };
    let mut errs = Errors::default();
    let spec = match custom {
        None => {
            if !attr.is_empty() {
                errs.spanned(&attr, "`#[differentiable]` takes no arguments");
            }
            None
        }
        Some(kind) => custom_spec(kind, attr, &mut errs),
    };
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
                custom: spec,
            },
            State::default(),
        ),
        Err(e) => e.into_compile_error(),
    };
    // Transform attributes still to expand on this function transform a call
    // of it, so that its rules apply: they see this marker.
    let mut item_fn = item_fn;
    if custom.is_some() {
        item_fn
            .attrs
            .push(syn::parse_quote!(#[::transforms::__private::custom_marker]));
    }
    quote!(#item_fn #rest)
}

fn custom_spec(kind: &str, attr: TokenStream, errs: &mut Errors) -> Option<CustomSpec> {
    let want = if kind == "custom_jvp" { 1 } else { 2 };
    let what = if want == 1 {
        "`#[custom_jvp(rule)]` takes the JVP rule's name"
    } else {
        "`#[custom_vjp(fwd, bwd)]` takes the forward and backward rules' names"
    };
    let parser = syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated;
    match syn::parse::Parser::parse2(parser, attr.clone()) {
        Ok(paths) if paths.len() == want => Some(CustomSpec {
            kind: syn::Ident::new(kind, Span::call_site()),
            rules: paths.into_iter().collect(),
        }),
        Ok(_) if attr.is_empty() => {
            errs.at(Span::call_site(), what);
            None
        }
        _ => {
            errs.spanned(&attr, what);
            None
        }
    }
}

/// The number of elements of a tuple return type (1 for a single tensor).
fn returns(f: &ItemFn) -> usize {
    match &f.sig.output {
        syn::ReturnType::Type(_, t) => match &**t {
            syn::Type::Tuple(tt) => tt.elems.len(),
            _ => 1,
        },
        syn::ReturnType::Default => 0,
    }
}

fn is_tensor_param(a: &syn::FnArg) -> bool {
    matches!(a, syn::FnArg::Typed(pt) if matches!(&*pt.ty, syn::Type::Reference(r) if crate::lower::is_tensor(&r.elem)))
}

/// Checks the rule functions' signatures against `item`'s.
fn check_rules(item: &ItemFn, c: &CustomSpec, rules: &[&ItemFn], errs: &mut Errors) {
    let n = item.sig.inputs.len();
    let nt = item
        .sig
        .inputs
        .iter()
        .filter(|a| is_tensor_param(a))
        .count();
    let name = &item.sig.ident;
    if c.kind == "custom_jvp" {
        let rule = rules[0];
        if rule.sig.inputs.len() != n + nt || returns(rule) != 2 {
            errs.spanned(
                &c.rules[0],
                format!(
                    "the JVP rule of `{name}` must take `{name}`'s {n} parameter(s) then one tangent per tensor parameter ({nt}), and return `(output, tangent)`"
                ),
            );
        }
        return;
    }
    let (fwd, bwd) = (rules[0], rules[1]);
    let n_res = returns(fwd).saturating_sub(1);
    if fwd.sig.inputs.len() != n || returns(fwd) < 2 {
        errs.spanned(
            &c.rules[0],
            format!("the forward rule of `{name}` must take `{name}`'s {n} parameter(s) and return `(output, residuals..)`"),
        );
        return;
    }
    let ns = n - nt;
    if bwd.sig.inputs.len() != ns + n_res + 1 || returns(bwd) != nt {
        errs.spanned(
            &c.rules[1],
            format!(
                "the backward rule of `{name}` must take `{name}`'s {ns} scalar parameter(s), the {n_res} residual(s) and the cotangent, and return one cotangent per tensor parameter ({nt})"
            ),
        );
    }
}

/// Every callee resolved: check the body and emit the hand-off macro.
pub fn finish(item: &ItemFn, custom: Option<&CustomSpec>, state: &State) -> TokenStream {
    let mut errs = Errors::default();
    let mut renamed = handoff::renamed(item, state);
    if lower(&renamed, state, &mut errs).is_none() && errs.is_empty() {
        errs.at(
            item.sig.ident.span(),
            "transforms: internal error: lowering failed silently",
        );
    }
    if let Some(c) = custom {
        let uniques: Vec<syn::Ident> = c
            .rules
            .iter()
            .filter_map(|p| state.resolved(&handoff::path_key(p)).cloned())
            .collect();
        let rules: Vec<&ItemFn> = uniques
            .iter()
            .filter_map(|u| state.get(&u.to_string()))
            .collect();
        if rules.len() == c.rules.len() {
            check_rules(item, c, &rules, &mut errs);
        }
        let kind = &c.kind;
        renamed
            .attrs
            .push(syn::parse_quote!(#[transforms_custom(#kind, #(#uniques),*)]));
    }
    if let Err(e) = errs.into_result() {
        return e.into_compile_error();
    }
    // The rule functions count as used where the custom function is.
    let uses = custom.map(|c| {
        let rules = &c.rules;
        quote!(const _: () = { #(let _ = #rules;)* };)
    });
    let mut defs = vec![Def {
        unique: handoff::unique_name(item),
        item: renamed,
    }];
    defs.extend(state.defs.iter().cloned());
    let mac = handoff::callee_macro(&item.vis, &item.sig.ident, &defs);
    quote!(#mac #uses)
}
