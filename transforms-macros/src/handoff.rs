//! Calls between annotated functions, resolved at compile time.
//!
//! A proc macro sees only the item it annotates, so the body of a called
//! function reaches the caller's expansion by a hand-off: `#[differentiable]`
//! on `fn layer` emits, beside the function, a `macro_rules!` with the same
//! name (macros live in their own namespace, so `use nn::layer;` imports both)
//! whose expansion is `::transforms::__private::resume! { [layer's body and the
//! bodies it calls] <payload> }`. A transform whose body calls `layer(..)`
//! emits `layer! { <payload> }` instead of its output; `resume!` receives the
//! body, records it, and either hands off to the next unresolved callee or
//! finishes the job (lowering inlines each call). Each differentiable
//! function resolves its own callees at its definition, so the bodies it
//! carries are complete and names resolve where they were written; calls
//! inside carried bodies are renamed to the callees' unique macro names.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{Expr, Ident, ItemFn, LitStr, Path, Token, braced, bracketed, parenthesized};

use crate::lower::is_builtin_call;

/// A differentiable function's item, its calls renamed to unique names.
#[derive(Clone)]
pub struct Def {
    pub unique: Ident,
    pub item: ItemFn,
}

/// The bodies resolved so far and, for the job's own calls, which path
/// resolved to which body.
#[derive(Clone, Default)]
pub struct State {
    pub defs: Vec<Def>,
    pub map: Vec<(String, Ident)>,
}

impl State {
    /// The item behind a unique name.
    pub fn get(&self, unique: &str) -> Option<&ItemFn> {
        self.defs
            .iter()
            .find(|d| d.unique == unique)
            .map(|d| &d.item)
    }

    pub fn resolved(&self, path: &str) -> Option<&Ident> {
        self.map.iter().find(|(p, _)| p == path).map(|(_, u)| u)
    }

    fn add(&mut self, defs: Vec<Def>) {
        for d in defs {
            if self.get(&d.unique.to_string()).is_none() {
                self.defs.push(d);
            }
        }
    }
}

/// What to do once every callee is resolved.
pub enum Job {
    /// A transform attribute (`kind` its name) on `item`.
    Attr {
        kind: Ident,
        args: TokenStream,
        item: ItemFn,
    },
    /// `#[differentiable]` on `item` (or `#[custom_jvp(..)]` /
    /// `#[custom_vjp(..)]`, whose rule functions are resolved too): emit its
    /// hand-off macro.
    Differentiable {
        item: ItemFn,
        custom: Option<CustomSpec>,
    },
    /// `transform!(..)` of the function at `target`: an expression.
    Transform {
        kind: Ident,
        args: TokenStream,
        target: Path,
    },
}

/// `#[custom_jvp(rule)]` or `#[custom_vjp(fwd, bwd)]`: the attribute's
/// name and the rule functions' paths.
#[derive(Clone)]
pub struct CustomSpec {
    pub kind: Ident,
    pub rules: Vec<Path>,
}

/// The key of a call path (generic arguments dropped).
pub fn path_key(p: &Path) -> String {
    strip_args(p).to_token_stream().to_string()
}

fn strip_args(p: &Path) -> Path {
    let mut p = p.clone();
    for s in &mut p.segments {
        s.arguments = syn::PathArguments::None;
    }
    p
}

/// Calls to functions that are neither builtins nor already resolved.
struct Callees<'a> {
    state: &'a State,
    found: Vec<Path>,
}

impl<'ast> Visit<'ast> for Callees<'_> {
    fn visit_expr_call(&mut self, c: &'ast syn::ExprCall) {
        if let Expr::Path(p) = &*c.func
            && p.qself.is_none()
            && !(p.path.leading_colon.is_none()
                && p.path.segments.len() == 1
                && is_builtin_call(&p.path.segments[0].ident.to_string()))
            && self.state.resolved(&path_key(&p.path)).is_none()
            && self.state.get(&path_key(&p.path)).is_none()
            && !self.found.iter().any(|f| path_key(f) == path_key(&p.path))
        {
            self.found.push(p.path.clone());
        }
        syn::visit::visit_expr_call(self, c);
    }

    // Closures and nested items are rejected by lowering; do not chase them.
    fn visit_item(&mut self, _: &'ast syn::Item) {}
}

/// The unresolved callees of `item`'s body, in order of appearance.
pub fn callees(item: &ItemFn, state: &State) -> Vec<Path> {
    let mut v = Callees {
        state,
        found: Vec::new(),
    };
    v.visit_block(&item.block);
    v.found
}

/// Renames resolved calls to their unique names (keeping the call's span).
struct Rename<'a>(&'a State);

impl VisitMut for Rename<'_> {
    fn visit_expr_call_mut(&mut self, c: &mut syn::ExprCall) {
        if let Expr::Path(p) = &mut *c.func
            && let Some(u) = self.0.resolved(&path_key(&p.path))
        {
            let span = p.path.span();
            p.path = Path::from(Ident::new(&u.to_string(), span));
        }
        syn::visit_mut::visit_expr_call_mut(self, c);
    }
}

/// `item` with its resolved calls renamed.
pub fn renamed(item: &ItemFn, state: &State) -> ItemFn {
    let mut item = item.clone();
    Rename(state).visit_block_mut(&mut item.block);
    item
}

/// `item` with its body replaced by a call of `callee` with its parameters
/// (a transform of a call, so that the callee's custom rules apply).
pub fn calling(item: &ItemFn, callee: &Ident) -> ItemFn {
    let names = item.sig.inputs.iter().filter_map(|a| match a {
        syn::FnArg::Typed(pt) => match &*pt.pat {
            syn::Pat::Ident(pi) => Some(pi.ident.clone()),
            _ => None,
        },
        syn::FnArg::Receiver(_) => None,
    });
    let mut wrapper = item.clone();
    *wrapper.block = syn::parse_quote!({ #callee(#(#names),*) });
    wrapper
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A hash of `tokens` and a process-wide counter: a suffix for names that
/// must be unique in the crate.
fn unique_hash(tokens: &impl ToTokens) -> u64 {
    let mut h = DefaultHasher::new();
    tokens.to_token_stream().to_string().hash(&mut h);
    COUNTER.fetch_add(1, Ordering::Relaxed).hash(&mut h);
    h.finish()
}

/// A crate-wide unique macro name for `item`.
pub fn unique_name(item: &ItemFn) -> Ident {
    format_ident!("__transforms_{}_{:016x}", item.sig.ident, unique_hash(item))
}

fn encode_defs(defs: &[Def]) -> TokenStream {
    let (u, items): (Vec<_>, Vec<_>) = defs.iter().map(|d| (&d.unique, &d.item)).unzip();
    quote!(#(#u { #items })*)
}

/// The hand-off macro of a differentiable function: `vis` and `name` as the
/// function's; `defs` its own (renamed) item first, then what it calls.
pub fn callee_macro(vis: &syn::Visibility, name: &Ident, defs: &[Def]) -> TokenStream {
    let unique = &defs[0].unique;
    let body = encode_defs(defs);
    let export = matches!(vis, syn::Visibility::Public(_)).then(|| quote!(#[macro_export]));
    quote! {
        #[doc(hidden)]
        #export
        macro_rules! #unique {
            ($($payload:tt)*) => {
                ::transforms::__private::resume! { [ #body ] $($payload)* }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        #vis use #unique as #name;
    }
}

impl Job {
    fn encode(&self) -> TokenStream {
        match self {
            Job::Attr { kind, args, item } => quote!(attr #kind (#args) { #item }),
            Job::Differentiable { item, custom: None } => quote!(differentiable { #item }),
            Job::Differentiable {
                item,
                custom: Some(c),
            } => {
                let (kind, rules) = (&c.kind, &c.rules);
                quote!(differentiable #kind (#(#rules),*) { #item })
            }
            Job::Transform { kind, args, target } => quote!(transform #kind (#args) (#target)),
        }
    }

    fn unresolved(&self, state: &State) -> Option<Path> {
        match self {
            Job::Attr { item, .. } => callees(item, state).into_iter().next(),
            Job::Differentiable { item, custom } => {
                callees(item, state).into_iter().next().or_else(|| {
                    custom.as_ref().and_then(|c| {
                        c.rules
                            .iter()
                            .find(|p| state.resolved(&path_key(p)).is_none())
                            .cloned()
                    })
                })
            }
            Job::Transform { target, .. } => state
                .resolved(&path_key(target))
                .is_none()
                .then(|| target.clone()),
        }
    }
}

/// Hands the job to the next unresolved callee, or finishes it.
pub fn drive(job: Job, state: State) -> TokenStream {
    let Some(path) = job.unresolved(&state) else {
        return match job {
            Job::Attr { kind, args, item } => crate::expand::finish(&kind, args, &item, &state),
            Job::Differentiable { item, custom } => {
                crate::differentiable::finish(&item, custom.as_ref(), &state)
            }
            Job::Transform { kind, args, target } => {
                crate::call::finish(&kind, args, &target, &state)
            }
        };
    };
    let mac = strip_args(&path);
    let key = LitStr::new(&path_key(&path), Span::call_site());
    let defs = encode_defs(&state.defs);
    let (ks, us): (Vec<_>, Vec<_>) = state
        .map
        .iter()
        .map(|(k, u)| (LitStr::new(k, Span::call_site()), u))
        .unzip();
    let expr = matches!(job, Job::Transform { .. });
    let job = job.encode();
    let span = path.span();
    let (probe_mod, probe) = probe_names(&path);
    let call = quote_spanned! {span=>
        #mac! {
            resolving #key
            defs { #defs }
            map { #(#ks => #us;)* }
            job { #job }
            probe { #probe_mod::#probe }
        }
    };
    // If `#mac!` is not a hand-off macro (the function lacks
    // `#[differentiable]`), rustc reports the missing macro and, since the
    // hand-off's `impl` never appears, this check adds the fix at the call.
    let check = quote_spanned! {span=>
        #[doc(hidden)]
        #[allow(non_camel_case_types, non_snake_case)]
        mod #probe_mod {
            pub struct #probe;
        }
        const _: () = ::transforms::__private::require_differentiable::<#probe_mod::#probe>();
    };
    if expr {
        quote!({ #check #call })
    } else {
        quote!(#check #call)
    }
}

/// The probe type of one hand-off: a unit struct named as the callee, in a
/// module of a unique name.
fn probe_names(path: &Path) -> (Ident, Ident) {
    let last = path
        .segments
        .last()
        .map_or_else(|| format_ident!("function"), |s| s.ident.clone());
    let span = last.span();
    (
        Ident::new(
            &format!("__transforms_probe_{:016x}", unique_hash(path)),
            span,
        ),
        Ident::new(&last.to_string(), span),
    )
}

fn parse_defs(input: ParseStream) -> syn::Result<Vec<Def>> {
    let mut defs = Vec::new();
    while !input.is_empty() {
        let unique: Ident = input.parse()?;
        let content;
        braced!(content in input);
        let item: ItemFn = content.parse()?;
        defs.push(Def { unique, item });
    }
    Ok(defs)
}

/// The input of `resume!`: the bodies a callee's macro prepended, then the
/// payload its caller wrote.
pub struct Resume {
    job: Job,
    state: State,
    /// The caller's probe type, marked as resolved by this hand-off.
    probe: Option<Path>,
}

impl Parse for Resume {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let content;
        bracketed!(content in input);
        let new = parse_defs(&content)?;
        let kw: Ident = input.parse()?;
        if kw != "resolving" {
            return Err(syn::Error::new(kw.span(), "transforms: malformed hand-off"));
        }
        let key: LitStr = input.parse()?;
        let mut state = State::default();
        let _: Ident = input.parse()?;
        let content;
        braced!(content in input);
        state.defs = parse_defs(&content)?;
        let _: Ident = input.parse()?;
        let content;
        braced!(content in input);
        while !content.is_empty() {
            let k: LitStr = content.parse()?;
            content.parse::<Token![=>]>()?;
            let u: Ident = content.parse()?;
            content.parse::<Token![;]>()?;
            state.map.push((k.value(), u));
        }
        let _: Ident = input.parse()?;
        let content;
        braced!(content in input);
        let job = parse_job(&content)?;
        let probe = if input.is_empty() {
            None
        } else {
            let _: Ident = input.parse()?;
            let content;
            braced!(content in input);
            Some(content.parse()?)
        };
        let Some(first) = new.first() else {
            return Err(syn::Error::new(key.span(), "transforms: empty hand-off"));
        };
        state.map.push((key.value(), first.unique.clone()));
        state.add(new);
        Ok(Resume { job, state, probe })
    }
}

fn parse_job(input: ParseStream) -> syn::Result<Job> {
    let tag: Ident = input.parse()?;
    match tag.to_string().as_str() {
        "attr" => {
            let kind: Ident = input.parse()?;
            let args;
            parenthesized!(args in input);
            let body;
            braced!(body in input);
            Ok(Job::Attr {
                kind,
                args: args.parse()?,
                item: body.parse()?,
            })
        }
        "differentiable" => {
            let custom = if input.peek(syn::token::Brace) {
                None
            } else {
                let kind: Ident = input.parse()?;
                let rules;
                parenthesized!(rules in input);
                let rules = rules.parse_terminated(Path::parse, Token![,])?;
                Some(CustomSpec {
                    kind,
                    rules: rules.into_iter().collect(),
                })
            };
            let body;
            braced!(body in input);
            Ok(Job::Differentiable {
                item: body.parse()?,
                custom,
            })
        }
        _ => {
            let kind: Ident = input.parse()?;
            let args;
            parenthesized!(args in input);
            let target;
            parenthesized!(target in input);
            Ok(Job::Transform {
                kind,
                args: args.parse()?,
                target: target.parse()?,
            })
        }
    }
}

/// `resume!`: continue a hand-off.
pub fn resume(input: TokenStream) -> TokenStream {
    match syn::parse2::<Resume>(input) {
        Ok(r) => {
            let expr = matches!(r.job, Job::Transform { .. });
            let out = drive(r.job, r.state);
            match r.probe {
                None => out,
                Some(p) => {
                    let mark = quote! {
                        #[diagnostic::do_not_recommend]
                        impl ::transforms::__private::Differentiable for #p {}
                    };
                    if expr {
                        quote!({ #mark #out })
                    } else {
                        quote!(#mark #out)
                    }
                }
            }
        }
        Err(e) => e.into_compile_error(),
    }
}
