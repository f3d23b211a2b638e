"""The Python side of `bench/compare`.

    compare.py measure torch|jax   time every workload, one line each:
                                   `<name> <median_us>` (`# ...` lines are notes)
    compare.py report ...          merge the three measurement files into the
                                   Markdown table and the log-scale bar chart

The workloads mirror `benches/common/mod.rs` one for one: same names, sizes
and float32; inputs are standard-normal samples from a fixed seed. torch runs
`torch.func` eagerly; JAX runs `jax.jit` of the jax transform, timed with
`block_until_ready`. Compilation and warm-up are not timed. Thread settings
come from the environment `bench/compare` sets; torch is also told here.
"""

import argparse
import datetime
import math
import os
import statistics
import sys
import time
import warnings


# ---- timing ----------------------------------------------------------------


def median_us(call, target_s):
    """Median wall time of one call, in µs: a warm-up of at least 3 calls (and
    0.2 s), then as many calls as fit in `target_s` (at least 5)."""
    start = time.perf_counter()
    best = math.inf
    calls = 0
    while calls < 3 or time.perf_counter() - start < 0.2:
        t = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - t)
        calls += 1
    n = int(min(max(target_s / max(best, 1e-9), 5), 200_000))
    times = []
    for _ in range(n):
        t = time.perf_counter_ns()
        call()
        times.append((time.perf_counter_ns() - t) / 1e3)
    return statistics.median(times), n


def inputs(*shapes_and_seeds):
    """float32 standard-normal arrays, one per (shape, seed)."""
    import numpy as np

    return [
        np.random.default_rng(seed).standard_normal(shape, dtype=np.float32)
        for shape, seed in shapes_and_seeds
    ]


def linear_inputs(dout, din, x_shape):
    return inputs(((dout, din), 1), ((dout,), 2), (x_shape, 3))


# ---- the workloads: each returns (fn, args, expected result shape) ----------
# `ft` is the framework module: torch.func-flavoured or jax-flavoured below.


def w_jacrev(ft, din, dout):
    return ft.jacrev(ft.predict, argnums=2), linear_inputs(dout, din, (din,)), (dout, din)


def w_jacfwd(ft, din, dout):
    return ft.jacfwd(ft.predict, argnums=2), linear_inputs(dout, din, (din,)), (dout, din)


def w_hessian(ft, din, dout):
    return (
        ft.hessian(ft.predict, argnums=2),
        linear_inputs(dout, din, (din,)),
        (dout, din, din),
    )


def w_vmap_jacrev(ft, batch, din, dout):
    fn = ft.vmap(ft.jacrev(ft.predict, argnums=2), in_dims=(None, None, 0))
    return fn, linear_inputs(dout, din, (batch, din)), (batch, dout, din)


def w_vmap_hessian(ft, batch, din, dout):
    fn = ft.vmap(ft.hessian(ft.predict, argnums=2), in_dims=(None, None, 0))
    return fn, linear_inputs(dout, din, (batch, din)), (batch, dout, din, din)


def w_mlp(ft, batch=64, din=32, hidden=64, dout=16):
    fn = ft.vmap(ft.jacrev(ft.mlp, argnums=4), in_dims=(None, None, None, None, 0))
    args = inputs(
        ((hidden, din), 4), ((hidden,), 5), ((dout, hidden), 6), ((dout,), 7), ((batch, din), 8)
    )
    return fn, args, (batch, dout, din)


def w_quad(ft, n=256):
    return ft.hessian(ft.quad, argnums=0), inputs(((n,), 9), ((n, n), 10)), (n, n)


WORKLOADS = [
    ("w1_jacrev_16x16", lambda ft: w_jacrev(ft, 16, 16)),
    ("w2_jacfwd_32to2048", lambda ft: w_jacfwd(ft, 32, 2048)),
    ("w2_jacrev_32to2048", lambda ft: w_jacrev(ft, 32, 2048)),
    ("w3_jacfwd_2048to32", lambda ft: w_jacfwd(ft, 2048, 32)),
    ("w3_jacrev_2048to32", lambda ft: w_jacrev(ft, 2048, 32)),
    ("w4_hessian_512to32", lambda ft: w_hessian(ft, 512, 32)),
    ("w5_vmap_jacrev_b64_31to33", lambda ft: w_vmap_jacrev(ft, 64, 31, 33)),
    ("w6_vmap_hessian_b64_31to33", lambda ft: w_vmap_hessian(ft, 64, 31, 33)),
    ("w7_vmap_jacrev_b1024_256to256", lambda ft: w_vmap_jacrev(ft, 1024, 256, 256)),
    ("mlp_vmap_jacrev_b64_32to64to16", w_mlp),
    ("quad_hessian_256", w_quad),
]


# ---- the two frameworks -------------------------------------------------------


class Torch:
    """torch.func, eager."""

    def __init__(self):
        import torch
        import torch.func

        # torch.func's internals warn about their own use of torch.jit.
        warnings.filterwarnings("ignore", category=FutureWarning)
        torch.set_num_threads(1)
        torch.set_num_interop_threads(1)
        self.torch = torch
        self.jacrev, self.jacfwd = torch.func.jacrev, torch.func.jacfwd
        self.hessian, self.vmap = torch.func.hessian, torch.func.vmap
        self.version = f"torch {torch.__version__} (torch.func, eager), threads={torch.get_num_threads()}"

    @staticmethod
    def predict(w, b, x):
        import torch.nn.functional as F

        return F.linear(x, w, b).tanh()

    @staticmethod
    def mlp(w1, b1, w2, b2, x):
        import torch.nn.functional as F

        return F.linear(F.linear(x, w1, b1).tanh(), w2, b2)

    @staticmethod
    def quad(x, m):
        return (x @ m @ x) * 0.5 + x.tanh().sum()

    def prepare(self, fn, args):
        args = [self.torch.from_numpy(a) for a in args]
        return lambda: fn(*args)


class Jax:
    """jax.jit of the jax transform."""

    def __init__(self):
        import jax
        import jax.numpy as jnp

        self.jax, self.jnp = jax, jnp
        self.jacrev, self.jacfwd = jax.jacrev, jax.jacfwd
        self.hessian = jax.hessian
        self.version = f"jax {jax.__version__} (jax.jit), devices={jax.devices()}"

    def vmap(self, fn, in_dims):
        return self.jax.vmap(fn, in_axes=in_dims)

    @staticmethod
    def predict(w, b, x):
        import jax.numpy as jnp

        return jnp.tanh(x @ w.T + b)

    @staticmethod
    def mlp(w1, b1, w2, b2, x):
        import jax.numpy as jnp

        return jnp.tanh(x @ w1.T + b1) @ w2.T + b2

    @staticmethod
    def quad(x, m):
        import jax.numpy as jnp

        return (x @ m @ x) * 0.5 + jnp.tanh(x).sum()

    def prepare(self, fn, args):
        args = [self.jax.device_put(a) for a in args]
        compiled = self.jax.jit(fn)
        compiled(*args).block_until_ready()  # compile outside the timing
        return lambda: compiled(*args).block_until_ready()


def measure(system, target_s, only, make=None, workloads=WORKLOADS):
    """Times `workloads` (those whose names contain one of `only`, or all)
    on `make()` (default: the `system` class here), one line each, plus
    `<name>:peak_bytes` where the system reports a peak."""
    try:
        ft = make() if make else {"torch": Torch, "jax": Jax}[system]()
    except Exception as e:  # an import failure is reported, not fatal
        print(f"# {system} unavailable: {type(e).__name__}: {e}", flush=True)
        return
    print(f"# {ft.version}", flush=True)
    for name, build in workloads:
        if only and not any(s in name for s in only):
            continue
        try:
            fn, args, shape = build(ft)
            call = ft.prepare(fn, args)
            got = tuple(call().shape)
            assert got == shape, f"result shape {got}, expected {shape}"
            peak = ft.peak_bytes(call) if hasattr(ft, "peak_bytes") else None
            us, n = median_us(call, target_s)
            print(f"# {n} calls", flush=True)
            print(f"{name} {us:.3f}", flush=True)
            if peak is not None:
                print(f"{name}:peak_bytes {peak}", flush=True)
        except Exception as e:
            print(f"# {name} failed: {type(e).__name__}: {e}", flush=True)


# ---- the report ---------------------------------------------------------------


def read_lines(path):
    """`key value` lines into a dict of floats, `# ...` lines into notes."""
    values, notes = {}, []
    if not path or not os.path.exists(path):
        return values, notes
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("#"):
                notes.append(line[1:].strip())
            elif line:
                key, value = line.split()
                values[key] = float(value)
    return values, notes


def fmt_us(v):
    if v is None:
        return "n/a"
    return f"{v:,.0f}" if v >= 100 else f"{v:.2f}" if v < 10 else f"{v:.1f}"


def ratio(a, b, suffix="×"):
    if a is None or b is None:
        return "n/a"
    r = a / b
    return f"{r:,.0f}{suffix}" if r >= 100 else f"{r:.1f}{suffix}" if r >= 10 else f"{r:.2f}{suffix}"


def report(a):
    ours, _ = read_lines(a.ours)
    torch_v, torch_notes = read_lines(a.torch)
    jax_v, jax_notes = read_lines(a.jax)
    rows = []
    for name, _ in WORKLOADS:
        rows.append(
            (name, ours.get(name), torch_v.get(name), jax_v.get(name), ours.get(name + ":floor_us"))
        )
    header = lambda notes, what: next(  # noqa: E731 (first note: version or failure)
        (n for n in notes if n.startswith(what)), f"{what}: no output"
    )
    out = []
    out.append(f"# transforms vs torch.func vs jax.jit — {a.date}\n")
    out.append(f"- CPU: {a.cpu} ({a.cores} logical cores); all three pinned to core {a.core} (`taskset -c {a.core}`)")
    out.append(f"- date: {a.date}; kernel: {a.kernel}; ours at commit `{a.commit}`; {a.rustc}")
    out.append(f"- threads: `{a.threads}`; `torch.set_num_threads(1)`")
    out.append(f"- load average (1, 5, 15 min) {a.load}")
    out.append(f"- {header(torch_notes, 'torch')}")
    out.append(f"- {header(jax_notes, 'jax')}")
    out.append(
        "- each number: median wall time of one call after warm-up (JAX compilation excluded; "
        f"`block_until_ready` for JAX), ~{a.target_s} s of calls per workload, float32"
    )
    out.append(
        "- floor: median time to allocate a fresh f32 buffer of the result's size and write it once "
        "(Rust, same core); speedup = their time / ours (> 1: ours is faster)\n"
    )
    out.append(
        "| workload | ours (µs) | torch.func (µs) | jax.jit (µs) | speedup vs torch | speedup vs jax | floor (µs) | ours / floor |"
    )
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, o, t, j, fl in rows:
        out.append(
            f"| {name} | {fmt_us(o)} | {fmt_us(t)} | {fmt_us(j)} | {ratio(t, o)} | {ratio(j, o)} "
            f"| {fmt_us(fl)} | {ratio(o, fl, '')} |"
        )
    ours2, _ = read_lines(a.ours2) if a.ours2 and os.path.exists(a.ours2) else ({}, [])
    if ours2:
        out.append(
            "\nOurs with 1 and 2 threads (`RAYON_NUM_THREADS=2`, `taskset -c` two cores; results of "
            "at least 128K elements are built in parallel, smaller ones on the calling thread):\n"
        )
        out.append("| workload | 1 thread (µs) | 2 threads (µs) | 1 / 2 |")
        out.append("|---|---:|---:|---:|")
        for name, o, *_ in rows:
            o2 = ours2.get(name)
            out.append(f"| {name} | {fmt_us(o)} | {fmt_us(o2)} | {ratio(o, o2, '×')} |")
    peaks = [(k.split(":")[0], v) for k, v in ours.items() if k.endswith(":peak_bytes")]
    if peaks:
        out.append("\nPeak heap growth during one call (ours, counting global allocator, result included):\n")
        for name, v in peaks:
            res = ours.get(f"{name}:result_bytes")
            of = f"; {v / res:.2f}× the result, {int(res):,} bytes" if res else ""
            out.append(f"- {name}: {v / 2**20:.1f} MiB ({int(v):,} bytes{of})")
    failures = [n for n in torch_notes + jax_notes if "unavailable" in n or "failed" in n]
    if failures:
        out.append("\nDid not run:\n")
        out.extend(f"- {n}" for n in failures)
    out.append(f"\nRaw lines: `{os.path.basename(a.out)[:-3]}.raw.txt`. Whole `bench/compare` run: {a.elapsed}.")
    if a.plot:
        out.append(f"\n![log-scale bar chart]({os.path.basename(a.plot)})")
    text = "\n".join(out) + "\n"
    with open(a.out, "w") as f:
        f.write(text)
    print(text)
    if a.plot:
        plot(rows, a.plot, f"{a.cpu}, 1 core, float32, {a.date}")


def plot(rows, path, subtitle):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:
        print(f"# no plot: matplotlib unavailable ({e})", file=sys.stderr)
        return
    systems = [("ours", 1, "#d95f02"), ("torch.func", 2, "#7570b3"), ("jax.jit", 3, "#1b9e77")]
    names = [r[0] for r in rows]
    width = 0.27
    fig, ax = plt.subplots(figsize=(13, 5.5))
    for k, (label, col, color) in enumerate(systems):
        xs = [i + (k - 1) * width for i in range(len(rows))]
        ys = [r[col] if r[col] is not None else float("nan") for r in rows]
        ax.bar(xs, ys, width, label=label, color=color)
    floor = [r[4] if r[4] is not None else float("nan") for r in rows]
    ax.scatter(range(len(rows)), floor, marker="_", s=500, color="black", label="floor (write result once)", zorder=3)
    ax.set_yscale("log")
    ax.set_ylabel("median time per call (µs, log scale)")
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    ax.set_title(f"transforms vs torch.func vs jax.jit — {subtitle}", fontsize=10)
    ax.grid(axis="y", which="major", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    # No timestamp and fixed ids in an SVG, so reruns differ only in the numbers.
    plt.rcParams["svg.hashsalt"] = "transforms-bench"
    fig.savefig(path, metadata={"Date": None} if path.endswith(".svg") else None)
    print(f"# plot written to {path}", file=sys.stderr)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("system", choices=["torch", "jax"])
    m.add_argument("--target-s", type=float, default=1.5)
    m.add_argument("--only", nargs="*", default=[], help="substrings selecting workloads")
    r = sub.add_parser("report")
    for flag in ["ours", "ours2", "torch", "jax", "out", "plot", "cpu", "cores", "core", "kernel", "commit", "rustc", "threads", "load", "elapsed"]:
        r.add_argument(f"--{flag}", default="")
    r.add_argument("--date", default=datetime.date.today().isoformat())
    r.add_argument("--target-s", default="1.5")
    a = p.parse_args()
    if a.cmd == "measure":
        measure(a.system, a.target_s, a.only)
    else:
        report(a)


if __name__ == "__main__":
    main()
