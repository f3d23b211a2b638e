//! Compiles every embedded CUDA source, and fused-chain sources, with NVRTC
//! to PTX: catches syntax and type errors in the CUDA C without a GPU.
//!
//! Needs libnvrtc (CUDA 13) on the loader's path, for example from the
//! `nvidia-cuda-nvrtc` wheel: `LD_LIBRARY_PATH=<venv>/lib/python3.*/site-packages/nvidia/cu13/lib`.
//! Without it the test prints `skipped: <reason>` and passes, unless
//! `TRANSFORMS_REQUIRE_NVRTC=1` is set (as in CI), which makes it fail.
#![cfg(feature = "cuda")]

use transforms_kernels::cuda::{MODULES, PRELUDE, fused_source};
use transforms_runtime::{Error, nvrtc_compile};

/// Virtual architectures to compile for: NVRTC's default, Ampere, Hopper.
const ARCHS: [Option<&str>; 3] = [None, Some("compute_80"), Some("compute_90")];

/// Compiles `src`; `None` (skipped) when NVRTC is unavailable and allowed to be.
fn compile(name: &str, src: &str, arch: Option<&str>) -> Option<String> {
    match nvrtc_compile(src, arch) {
        Ok(ptx) => Some(ptx),
        Err(Error::CudaUnavailable { reason }) => {
            if std::env::var("TRANSFORMS_REQUIRE_NVRTC").is_ok_and(|v| v == "1") {
                panic!("TRANSFORMS_REQUIRE_NVRTC=1 but NVRTC is unavailable: {reason}");
            }
            None
        }
        Err(e) => panic!("{name} ({arch:?}) does not compile:\n{e}"),
    }
}

#[test]
fn embedded_modules_compile_with_nvrtc() {
    let mut compiled = 0;
    for m in MODULES {
        for arch in ARCHS {
            let Some(ptx) = compile(m.name, &m.source(), arch) else {
                println!("skipped: NVRTC is unavailable (libnvrtc.so.13 not loadable)");
                return;
            };
            // Every extern "C" kernel of the module is in the PTX, for both types.
            for line in m.body.lines().filter(|l| l.starts_with("UNARY(")) {
                let name = &line["UNARY(".len()..line.len() - 1];
                for ty in ["f32", "f64"] {
                    let entry = format!(".entry unary_{name}_{ty}(");
                    assert!(ptx.contains(&entry), "{} lacks {entry}", m.name);
                }
            }
            assert!(ptx.contains(".entry"), "{}: no kernels in the PTX", m.name);
            compiled += 1;
        }
    }
    println!("compiled {compiled} module builds with NVRTC");
    assert_eq!(compiled, MODULES.len() * ARCHS.len());
}

#[test]
fn kernel_entries_of_every_op() {
    let ew = MODULES.iter().find(|m| m.name == "elementwise").unwrap();
    let Some(ptx) = compile(ew.name, &ew.source(), None) else {
        println!("skipped: NVRTC is unavailable");
        return;
    };
    for k in [
        "scalar_powf_f64",
        "scalar_rdiv_scalar_f32",
        "scalar2_clamp_f32",
        "scalar2_in_range_f64",
        "unary_sigmoid_f32",
    ] {
        assert!(ptx.contains(&format!(".entry {k}(")), "missing {k}");
    }
    let bc = MODULES.iter().find(|m| m.name == "broadcast").unwrap();
    let ptx = compile(bc.name, &bc.source(), None).unwrap();
    for k in ["binary_add_f32", "binary_le_f64", "where_f32", "copy_f64"] {
        for k in [k.to_string(), format!("{k}_i32")] {
            assert!(ptx.contains(&format!(".entry {k}(")), "missing {k}");
        }
    }
    let rd = MODULES.iter().find(|m| m.name == "reduce").unwrap();
    let ptx = compile(rd.name, &rd.source(), None).unwrap();
    for k in [
        "sum_f32",
        "sum_f64_i32",
        "sum_rows_f32_i32",
        "sum_rows_f64_i32",
    ] {
        assert!(ptx.contains(&format!(".entry {k}(")), "missing {k}");
    }
    let sl = MODULES.iter().find(|m| m.name == "slices").unwrap();
    let ptx = compile(sl.name, &sl.source(), None).unwrap();
    for k in ["place", "gather", "index_add", "max"] {
        for ty in ["f32", "f64"] {
            assert!(
                ptx.contains(&format!(".entry {k}_{ty}(")),
                "missing {k}_{ty}"
            );
        }
    }
}

#[test]
fn fused_sources_compile_with_nvrtc() {
    let chains = [
        (1, "t_tanh(x0)"),
        (1, "T(1) - t_square(t_tanh(x0))"),
        (2, "t_mul(x1, T(1) - t_square(t_tanh(x0)))"),
        (2, "t_maximum(x0, x1) + t_sigmoid(x0)"),
        (3, "t_where(x0, t_exp(x1), t_ln(x2))"),
        (3, "t_clamp(x0 * x1 + x2, T(-1), T(1))"),
    ];
    for (arity, expr) in chains {
        for ty in ["float", "double"] {
            let src = fused_source(arity, expr, ty);
            let Some(ptx) = compile(expr, &src, Some("compute_80")) else {
                println!("skipped: NVRTC is unavailable");
                return;
            };
            assert!(ptx.contains(".entry fused("), "{expr}: no fused kernel");
            assert!(
                ptx.contains(".entry fused_i32("),
                "{expr}: no fused_i32 kernel"
            );
        }
    }
}

#[test]
fn a_syntax_error_is_reported_with_the_log() {
    let src = fused_source(1, "t_tanh(x0", "float");
    match nvrtc_compile(&src, None) {
        Err(Error::Cuda { op, message }) => {
            assert_eq!(op, "nvrtc");
            assert!(message.contains("error"), "{message}");
        }
        Err(Error::CudaUnavailable { reason }) => println!("skipped: {reason}"),
        other => panic!("expected a compile error, got {other:?}"),
    }
}

/// The CUDA C the compiler emits beside its fused CPU closures
/// (`kernels/cuda/fused_samples.txt`, kept up to date by a test of
/// transforms-macros): each chain as a real fused kernel of its arity, all
/// in one NVRTC call per element type (one kernel per chain, named apart).
#[test]
fn emitted_fused_chains_compile_with_nvrtc() {
    let samples = include_str!("../../kernels/cuda/fused_samples.txt");
    let chains: Vec<(usize, &str)> = samples
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (arity, expr) = l.split_once('\t').expect("arity TAB expression");
            (arity.parse().expect("arity"), expr)
        })
        .collect();
    assert!(chains.len() > 30, "too few samples: {}", chains.len());
    for ty in ["float", "double"] {
        // Each chain's kernels are the real fused ones, renamed `fused_<k>`
        // and `fused_<k>_i32` so that all of them fit one module after one
        // prelude.
        let mut src = String::new();
        for (k, &(arity, expr)) in chains.iter().enumerate() {
            let one = fused_source(arity, expr, ty);
            let rest = one.strip_prefix(PRELUDE).expect("the prelude first");
            let (typedef, kernel) = rest.split_at(rest.find("extern").expect("a kernel"));
            if k == 0 {
                src.push_str(PRELUDE);
                src.push_str(typedef);
            }
            src.push_str(
                &kernel
                    .replacen(" fused(", &format!(" fused_{k}("), 1)
                    .replacen(" fused_i32(", &format!(" fused_{k}_i32("), 1),
            );
        }
        let Some(ptx) = compile("fused samples", &src, Some("compute_80")) else {
            println!("skipped: NVRTC is unavailable");
            return;
        };
        for k in 0..chains.len() {
            for name in [format!("fused_{k}"), format!("fused_{k}_i32")] {
                assert!(ptx.contains(&format!(".entry {name}(")), "{name} missing");
            }
        }
        println!("compiled {} emitted fused chains as {ty}", chains.len());
    }
}
