"""The Python side of `bench/gpu_compare` (the CUDA issue's benchmarks).

    gpu_compare.py measure torch|jax [--device cuda|cpu] [NAME..]
        time every workload on the GPU, one line each: `<name> <median_us>`
        and `<name>:peak_bytes <bytes>` (`# ...` lines are notes)
    gpu_compare.py report OURS TORCH JAX
        merge the three files into the Markdown table

The workloads are `compare.py`'s (the tutorial sizes) plus the sizes that
fill a large GPU, mirroring `benches/common/mod.rs` (`all_on`, `large_on`):
same names, sizes and float32 inputs. torch runs `torch.func` eagerly and is
timed up to `torch.cuda.synchronize()`; JAX runs `jax.jit` and is timed up
to `block_until_ready`. `--device cpu` is a dry run of this script on a
machine without a GPU.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (the shared workloads and timing)

LARGE = [
    ("w5_vmap_jacrev_b65536_31to33", lambda ft: compare.w_vmap_jacrev(ft, 65536, 31, 33)),
    ("w6_vmap_hessian_b65536_31to33", lambda ft: compare.w_vmap_hessian(ft, 65536, 31, 33)),
    ("jac_jacrev_4096to4096", lambda ft: compare.w_jacrev(ft, 4096, 4096)),
    ("jac_jacfwd_4096to4096", lambda ft: compare.w_jacfwd(ft, 4096, 4096)),
]


class TorchGpu(compare.Torch):
    """torch.func on a device, each call synchronised."""

    def __init__(self, device):
        super().__init__()
        self.device = device
        if device == "cuda":
            self.version += f", {self.torch.cuda.get_device_name(0)}"

    def sync(self):
        if self.device == "cuda":
            self.torch.cuda.synchronize()

    def prepare(self, fn, args):
        args = [self.torch.from_numpy(a).to(self.device) for a in args]

        def call():
            out = fn(*args)
            self.sync()
            return out

        return call

    def peak_bytes(self, call):
        if self.device != "cuda":
            return None
        cuda = self.torch.cuda
        self.sync()
        base = cuda.memory_allocated()
        cuda.reset_peak_memory_stats()
        out = call()
        peak = cuda.max_memory_allocated() - base
        del out
        return peak


class JaxGpu(compare.Jax):
    """jax.jit on the default device (the GPU when JAX sees one)."""

    def __init__(self, device):
        super().__init__()
        self.device = device

    def peak_bytes(self, call):
        stats = self.jax.devices()[0].memory_stats() or {}
        # JAX keeps one peak for the process: reported as such.
        return stats.get("peak_bytes_in_use")


def measure(system, device, target_s, only):
    make = lambda: {"torch": TorchGpu, "jax": JaxGpu}[system](device)  # noqa: E731
    compare.measure(system, target_s, only, make, compare.WORKLOADS + LARGE)


def report(ours_path, torch_path, jax_path):
    ours, ours_notes = compare.read_lines(ours_path)
    torch, torch_notes = compare.read_lines(torch_path)
    jax, jax_notes = compare.read_lines(jax_path)
    names = [n for n, _ in compare.WORKLOADS + LARGE]
    mb = lambda v: "" if v is None else f"{v / 2**20:,.1f}"  # noqa: E731
    lines = [
        "| workload | ours (µs) | torch.func (µs) | jax.jit (µs) | speedup vs torch "
        "| speedup vs jax | ours max rel err | result (MiB) | ours held (MiB) "
        "| ours peak (MiB) | torch peak (MiB) | jax process peak (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n in names:
        o, t, j = ours.get(n), torch.get(n), jax.get(n)
        err = ours.get(f"{n}:max_rel_err")
        lines.append(
            f"| {n} | {compare.fmt_us(o)} | {compare.fmt_us(t)} | {compare.fmt_us(j)} "
            f"| {compare.ratio(t, o)} | {compare.ratio(j, o)} "
            f"| {'' if err is None else f'{err:.1e}'} | {mb(ours.get(f'{n}:result_bytes'))} "
            f"| {mb(ours.get(f'{n}:held_bytes'))} | {mb(ours.get(f'{n}:peak_bytes'))} "
            f"| {mb(torch.get(f'{n}:peak_bytes'))} "
            f"| {mb(jax.get(f'{n}:peak_bytes'))} |"
        )
    # The versions and anything that failed or was skipped; not call counts.
    keep = ("transforms", "torch", "jax", "failed", "skipped", "unavailable")
    notes = [f"- {x}" for x in ours_notes + torch_notes + jax_notes if x.startswith(keep) or any(k in x for k in keep[3:])]
    print("\n".join(notes + [""] + lines))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("measure")
    m.add_argument("system", choices=["torch", "jax"])
    m.add_argument("--device", default=os.environ.get("GPU_DEVICE", "cuda"), choices=["cuda", "cpu"])
    m.add_argument("--target-s", type=float, default=float(os.environ.get("GPU_TARGET_S", "1")))
    r = sub.add_parser("report")
    r.add_argument("ours")
    r.add_argument("torch")
    r.add_argument("jax")
    # Workload name filters may follow the options (argparse would not take
    # a trailing positional list after them).
    a, rest = p.parse_known_args()
    if any(x.startswith("-") for x in rest) or (rest and a.cmd != "measure"):
        p.error(f"unrecognized arguments: {' '.join(rest)}")
    if a.cmd == "measure":
        measure(a.system, a.device, a.target_s, rest)
    else:
        report(a.ours, a.torch, a.jax)


if __name__ == "__main__":
    main()
