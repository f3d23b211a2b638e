//! Our side of `bench/compare`: every workload of `common/mod.rs`, timed
//! call by call, printed one machine-readable line at a time:
//!
//! ```text
//! <name> <median_us>                 median wall time of one call
//! <name>:floor_us <median_us>        writing a fresh f32 buffer of the result's size once
//! <name>:peak_bytes <bytes>          peak heap growth during one call (the Hessians: W4, W6, quad)
//! <name>:result_bytes <bytes>        the result's size, beside each peak
//! # ...                              comments
//! ```
//!
//! Run: `cargo bench --bench compare_ours [-- NAME_SUBSTRING..]`.
//! `COMPARE_TARGET_S` sets the timed seconds per workload (default 1.5).
//! The global allocator is mimalloc: with the system allocator every large
//! buffer is a fresh `mmap` and its page faults dominate the big workloads.

use std::alloc::{GlobalAlloc, Layout};

use mimalloc::MiMalloc;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

mod common;

/// mimalloc (a caching allocator, as torch and JAX use their own), counting
/// live bytes while `COUNTING` is set.
struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

fn track(delta: isize) {
    if COUNTING.load(Relaxed) {
        let now = LIVE.fetch_add(delta, Relaxed) + delta;
        PEAK.fetch_max(now, Relaxed);
    }
}

// SAFETY: every call forwards to `MiMalloc` with the caller's arguments; the
// counters have no effect on the memory handed out.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { MiMalloc.alloc(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { MiMalloc.alloc_zeroed(layout) };
        if !p.is_null() {
            track(layout.size() as isize);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { MiMalloc.dealloc(ptr, layout) };
        track(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { MiMalloc.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            track(new_size as isize - layout.size() as isize);
        }
        p
    }
}

#[global_allocator]
static ALLOC: CountingAlloc = CountingAlloc;

/// Peak bytes allocated during one call of `run` (the result included),
/// counted from the live bytes just before it.
fn peak_bytes<R>(run: impl Fn() -> R) -> isize {
    LIVE.store(0, Relaxed);
    PEAK.store(0, Relaxed);
    COUNTING.store(true, Relaxed);
    let out = run();
    COUNTING.store(false, Relaxed);
    drop(out);
    PEAK.load(Relaxed)
}

/// Median of single-call wall times: a warm-up of at least 3 calls (and
/// 0.2 s), then as many calls as fit in `target` (at least 5).
fn median_us<R>(run: impl Fn() -> R, target: Duration) -> (f64, usize) {
    let warm = Instant::now();
    let mut last = Duration::MAX;
    let mut calls = 0;
    while calls < 3 || warm.elapsed() < Duration::from_millis(200) {
        let t = Instant::now();
        drop(black_box(run()));
        last = last.min(t.elapsed());
        calls += 1;
    }
    let n = (target.as_secs_f64() / last.as_secs_f64().max(1e-9)).clamp(5.0, 200_000.0) as usize;
    let mut times: Vec<f64> = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        drop(black_box(run()));
        times.push(t.elapsed().as_secs_f64() * 1e6);
    }
    times.sort_by(f64::total_cmp);
    (times[n / 2], n)
}

/// The floor: allocate a buffer of `n` f32 and write it once.
fn write_once(n: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(n);
    v.resize(n, black_box(1.0f32));
    v
}

fn main() {
    // Arguments that are not flags (cargo passes `--bench`) select workloads.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let target = std::env::var("COMPARE_TARGET_S")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map_or(Duration::from_millis(1500), Duration::from_secs_f64);
    let floor_target = target.mul_f64(0.25);
    println!(
        "# transforms {} (ours), global allocator mimalloc, RAYON_NUM_THREADS={}",
        env!("CARGO_PKG_VERSION"),
        std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "unset".into())
    );
    for w in common::all() {
        if !filters.is_empty() && !filters.iter().any(|f| w.name.contains(f.as_str())) {
            continue;
        }
        let first = (w.run)();
        assert_eq!(first.shape(), &w.out_shape[..], "{}: result shape", w.name);
        drop(first);
        println!("# {}: {} -> {:?}", w.name, w.what, w.out_shape);
        let (us, n) = median_us(&w.run, target);
        println!("# {} calls", n);
        println!("{} {:.3}", w.name, us);
        let (floor, _) = median_us(|| write_once(w.out_numel()), floor_target);
        println!("{}:floor_us {:.3}", w.name, floor);
        if w.name.starts_with("w4_") || w.name.starts_with("w6_") || w.name.starts_with("quad_") {
            println!("{}:peak_bytes {}", w.name, peak_bytes(&w.run));
            println!("{}:result_bytes {}", w.name, w.out_numel() * 4);
        }
    }
}
