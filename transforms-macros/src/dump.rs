//! `TRANSFORMS_DUMP=<dir>`: writes each generated function, pretty-printed,
//! to `<dir>/<name>.rs` so users can read the derivative code.

use proc_macro2::TokenStream;

pub fn write(items: &TokenStream) {
    let Some(dir) = std::env::var_os("TRANSFORMS_DUMP") else {
        return;
    };
    let Ok(file) = syn::parse2::<syn::File>(items.clone()) else {
        return;
    };
    let name = file
        .items
        .iter()
        .find_map(|it| match it {
            syn::Item::Fn(f) => Some(f.sig.ident.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "generated".to_string());
    let text = prettyplease::unparse(&file);
    let dir = std::path::PathBuf::from(dir);
    // Best effort: a dump must never break the build.
    let _ = std::fs::create_dir_all(&dir);
    let _ = std::fs::write(dir.join(format!("{name}.rs")), text);
}
