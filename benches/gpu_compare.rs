//! Our side of `bench/gpu_compare` (the CUDA issue's benchmarks): the
//! workloads of `common/mod.rs` at the tutorial sizes and at sizes that fill
//! a large GPU (`common::large_on`), with inputs on `cuda:0`, one line each:
//!
//! ```text
//! <name> <median_us>                  median time of one call, synchronised
//! <name>:max_rel_err <x>              max |gpu - cpu| / max |cpu| against the CPU path
//! <name>:result_bytes <bytes>         the result's size
//! <name>:held_bytes <bytes>           device memory in use after the call with
//!                                     the result held, minus before it
//! # ...                               comments (`# skipped: ..` without a GPU)
//! ```
//!
//! Build here with `cargo bench --features cuda --bench gpu_compare --no-run`
//! and run the binary on the GPU machine (`bench/gpu_compare` does both).
//! `GPU_TARGET_S` sets the timed seconds per workload (default 1),
//! `GPU_CHECK=0` skips the CPU comparison, `GPU_DEVICE=cpu` runs the same
//! harness on the CPU (a dry run of it on a machine without a GPU), and
//! arguments filter workloads by name substring.

use std::hint::black_box;
use std::time::{Duration, Instant};

use transforms::{Device, Tensor};

mod common;

/// `cuda:0`, or the CPU with `GPU_DEVICE=cpu`.
fn device() -> Device {
    match std::env::var("GPU_DEVICE").as_deref() {
        Ok("cpu") => Device::Cpu,
        _ => Device::Cuda(0),
    }
}

fn sync() {
    device()
        .synchronize()
        .unwrap_or_else(|e| panic!("synchronize: {e}"));
}

/// Median time of one call ending in a device synchronisation: three
/// warm-up calls, then as many as fit in `target` (at least 5, at most 10,000).
fn median_us(run: &dyn Fn() -> Tensor, target: Duration) -> (f64, usize) {
    for _ in 0..3 {
        black_box(run());
        sync();
    }
    let start = Instant::now();
    let mut times = Vec::new();
    while times.len() < 5 || (start.elapsed() < target && times.len() < 10_000) {
        let t = Instant::now();
        let r = run();
        sync();
        times.push(t.elapsed().as_secs_f64() * 1e6);
        drop(black_box(r));
    }
    times.sort_by(f64::total_cmp);
    (times[times.len() / 2], times.len())
}

/// max |a - b| / max |b| (NaN, reported as such, if either has a NaN).
fn max_rel_err(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.shape(), b.shape(), "GPU and CPU result shapes");
    let scale = b
        .as_slice()
        .iter()
        .fold(0.0f64, |m, &v| m.max(f64::from(v).abs()));
    let mut worst = 0.0f64;
    for (&x, &y) in a.as_slice().iter().zip(b.as_slice()) {
        let d = (f64::from(x) - f64::from(y)).abs();
        if d.is_nan() {
            return f64::NAN;
        }
        worst = worst.max(d);
    }
    worst / scale.max(f64::MIN_POSITIVE)
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let target = Duration::from_secs_f64(
        std::env::var("GPU_TARGET_S")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1.0),
    );
    let check = std::env::var("GPU_CHECK").map_or(true, |v| v != "0");
    let dev = device();
    if let Err(e) = Tensor::<f32>::zeros(&[1]).to_device(dev) {
        println!("# skipped: {e}");
        return;
    }
    println!(
        "# transforms {} (ours) on {dev}, f32",
        env!("CARGO_PKG_VERSION")
    );
    let sets = [
        (common::all_on(dev), common::all_on(Device::Cpu)),
        (common::large_on(dev), common::large_on(Device::Cpu)),
    ];
    for (gpu, cpu) in &sets {
        for (w, reference) in gpu.iter().zip(cpu) {
            if !wanted(w.name) {
                continue;
            }
            // A workload that panics (an op not yet on CUDA) is reported,
            // and the others still run.
            let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                sync();
                let before = dev.memory_in_use().ok().flatten();
                dev.reset_peak_memory().expect("reset the peak memory");
                let out = (w.run)();
                sync();
                let after = dev.memory_in_use().ok().flatten();
                let peak = dev.peak_memory().ok().flatten();
                assert_eq!(out.shape(), &w.out_shape[..], "result shape");
                let held = before.zip(after).map(|(b, a)| a as i64 - b as i64);
                let peak = before.zip(peak).map(|(b, p)| p.max(b) as i64 - b as i64);
                let err = check.then(|| {
                    let got = out.to_device(Device::Cpu).expect("result to the CPU");
                    max_rel_err(&got, &(reference.run)())
                });
                drop(out);
                let (us, n) = median_us(&*w.run, target);
                (us, n, err, held, peak)
            }));
            match result {
                Ok((us, n, err, held, peak)) => {
                    println!("# {}: {} -> {:?}, {n} calls", w.name, w.what, w.out_shape);
                    println!("{} {us:.3}", w.name);
                    if let Some(err) = err {
                        println!("{}:max_rel_err {err:.3e}", w.name);
                    }
                    println!("{}:result_bytes {}", w.name, 4 * w.out_numel());
                    if let Some(held) = held {
                        println!("{}:held_bytes {held}", w.name);
                    }
                    if let Some(peak) = peak {
                        println!("{}:peak_bytes {peak}", w.name);
                    }
                }
                Err(_) => println!("# {} failed (see the panic above)", w.name),
            }
        }
    }
}
