//! Draws the random programs before the crate compiles (the transforms are
//! compile-time macros, so the programs must exist as source): writes
//! `$OUT_DIR/programs.rs` and `$OUT_DIR/tests.rs`. See `src/lib.rs`.

#[path = "generator/mod.rs"]
#[allow(dead_code)]
mod generator;

use std::path::PathBuf;

fn main() {
    for var in [
        "TRANSFORMS_PROPTEST_SEED",
        "TRANSFORMS_PROPTEST_N",
        "TRANSFORMS_PROPTEST_DUMP",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=generator");
    let seed = match std::env::var("TRANSFORMS_PROPTEST_SEED") {
        Ok(s) => generator::parse_seed(&s).unwrap_or_else(|| {
            panic!("TRANSFORMS_PROPTEST_SEED={s:?}: expected a decimal or 0x-hex u64")
        }),
        Err(_) => generator::DEFAULT_SEED,
    };
    let n = match std::env::var("TRANSFORMS_PROPTEST_N") {
        Ok(s) => s
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("TRANSFORMS_PROPTEST_N={s:?}: expected a count")),
        Err(_) => generator::DEFAULT_N,
    };
    let g = generator::generate(seed, n);
    let programs = generator::programs_file(&g);
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    std::fs::write(out.join("programs.rs"), &programs).expect("write programs.rs");
    std::fs::write(out.join("tests.rs"), generator::tests_file(&g)).expect("write tests.rs");
    if let Ok(dump) = std::env::var("TRANSFORMS_PROPTEST_DUMP") {
        let mut path = PathBuf::from(dump);
        if path.is_dir() {
            path.push("programs.rs");
        }
        std::fs::write(&path, &programs)
            .unwrap_or_else(|e| panic!("TRANSFORMS_PROPTEST_DUMP: writing {path:?}: {e}"));
    }
}
