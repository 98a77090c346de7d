"""The PyTorch side of `benches/compare.sh`: the benchmarks of `sharplab bench`, done the way
researchers do them today, on the data and parameters `sharplab bench --out DIR` wrote.

"The way researchers do them" is the way Cohen et al.'s edge-of-stability code does
(locuslab/edge-of-stability, src/utilities.py), rewritten here, not copied:

- the full-batch loss is a sum over chunks of 1,000 examples of 0.5·‖f(x) − y‖² / N, and a GD
  step is one backward per chunk followed by `torch.optim.SGD.step()`;
- a Hessian-vector product is a double backward per chunk: the gradient with
  `create_graph=True`, its dot product with v, and the gradient of that;
- the sharpness is SciPy's ARPACK Lanczos (`eigsh`) on a `LinearOperator` whose matvec is that
  HVP, numpy in and numpy out; `tol` is ARPACK's, a bound on ‖Hy − θy‖ / |θ|, the same relative
  residual sharplab stops at.

Departures from Cohen et al., each in PyTorch's favour or to compute the same quantity:
the GD step takes the loss and accuracy from the forward pass of the gradient (their loop runs
a second, gradient-free pass for them); the operator is given `dtype=float32`, which saves the
extra HVP SciPy makes to infer it (ARPACK still runs in single precision, as theirs does);
`which="LA"` asks for the top algebraic eigenvalue, sharplab's definition of sharpness (theirs
uses the default, largest magnitude); `eigsh` is given `k=1` and the tolerance of the benchmark.

The minimalist model f(x) = (xᵀu)·v₁⋯v_{D−1} is written with torch autograd in float64, with
L = (1/2N)‖Xu·∏v − y‖²; its exact sharpness every step is computed as a torch user would for
P = d + D − 1 = 3,074 parameters: HVPs by double backward and `eigsh(k=1, which="LA", tol=0)`
(ARPACK to machine precision), warm-started from the previous step's eigenvector. (Forming the
full Hessian with `torch.autograd.functional.hessian` and `eigvalsh` is exact too, but takes
seconds per step here; HVP + eigsh is the faster choice, so the comparison favours PyTorch.)

Usage: python benches/reference.py --setup benches/out/setup/setup.json [--repeats K]
[--only NAMES] [--json]. Prints the same JSON schema as `sharplab bench --json`.
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import torch
from safetensors.torch import load_file
from scipy.sparse.linalg import LinearOperator, eigsh
from torch import nn
from torch.nn.utils import parameters_to_vector

BENCHMARKS = [
    "fc-tanh/gd-step",
    "fc-tanh/hvp",
    "fc-tanh/sharpness",
    "cnn-relu/gd-step",
    "cnn-relu/hvp",
    "cnn-relu/sharpness",
    "minimalist",
    "matmul",
]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--setup", required=True, help="setup.json written by sharplab bench --out")
    parser.add_argument(
        "--quick", action="store_true", help="3 repeats, 10 minimalist steps, no cnn-relu sharpness"
    )
    parser.add_argument("--repeats", type=int, help="timed repeats [default 5, or 3 with --quick]")
    parser.add_argument("--sharpness-repeats", type=int, default=1)
    parser.add_argument("--only", default="", help="comma-separated, as sharplab bench --only")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--which", default="LA", choices=["LA", "LM"], help="eigsh's which")
    parser.add_argument(
        "--minimalist-steps",
        type=int,
        help="minimalist GD steps (each with the exact sharpness) per repeat [default 30, or 10 "
        "with --quick]",
    )
    return parser.parse_args()


# What --quick leaves out unless --only names it, as sharplab bench --quick does.
SLOWEST = "cnn-relu/sharpness"


def selected(only, quick):
    """The benchmarks `only` names (all when empty, less the slowest with --quick), as
    sharplab bench selects them."""
    if not only:
        return [name for name in BENCHMARKS if not (quick and name == SLOWEST)]
    selectors = [s.strip() for s in only.split(",") if s.strip()]

    def matches(selector, name):
        return selector == name or selector in name.split("/")

    for selector in selectors:
        if not any(matches(selector, name) for name in BENCHMARKS):
            names = ", ".join(BENCHMARKS)
            sys.exit(f"error: unknown benchmark `{selector}` in --only: use {names}")
    return [name for name in BENCHMARKS if any(matches(s, name) for s in selectors)]


def spread(samples):
    ordered = sorted(samples)
    middle = len(ordered) // 2
    median = ordered[middle] if len(ordered) % 2 else 0.5 * (ordered[middle - 1] + ordered[middle])
    return {"median": median, "min": ordered[0], "max": ordered[-1], "samples": samples}


def timed(work):
    started = time.perf_counter()
    value = work()
    return value, time.perf_counter() - started


def log(message):
    print(f"reference.py: {message}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# The networks, with the parameter names of sharplab's checkpoints (state_dict loads as is).


class FcTanh(nn.Module):
    """d → width (tanh) → … → k, `depth` hidden layers."""

    def __init__(self, d, width, depth, k):
        super().__init__()
        widths = [d] + [width] * depth + [k]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths, widths[1:]))

    def forward(self, x):  # [n, d] → [n, k]
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i + 1 < len(self.layers):
                x = torch.tanh(x)
        return x


class CnnRelu(nn.Module):
    """Cohen et al.'s CNN: conv 3×3 (32, padding 1), ReLU, max-pool 2, twice; flatten; linear."""

    def __init__(self, channels, height, width, k):
        super().__init__()
        self.shape = (channels, height, width)
        self.conv1 = nn.Conv2d(channels, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 32, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.head = nn.Linear(32 * (height // 4) * (width // 4), k)

    def forward(self, x):  # [n, C·H·W] → [n, k]
        x = x.view(-1, *self.shape)  # [n, C, H, W]
        x = self.pool(torch.relu(self.conv1(x)))  # [n, 32, H/2, W/2]
        x = self.pool(torch.relu(self.conv2(x)))  # [n, 32, H/4, W/4]
        return self.head(x.flatten(1))  # [n, k]


def load_network(entry, setup_dir, x, y):
    """The network of a setup entry with sharplab's θ₀ loaded, and its data split in chunks."""
    n = entry["examples"]
    k = y.shape[1]
    if entry["arch"] == "fc-tanh":
        net = FcTanh(x.shape[1], 200, 2, k)
    elif entry["arch"] == "cnn-relu":
        net = CnnRelu(3, 32, 32, k)
    else:
        sys.exit(f"error: setup.json names `{entry['arch']}`: use fc-tanh or cnn-relu")
    net.load_state_dict(load_file(os.path.join(setup_dir, entry["params"])), strict=True)
    size = entry["chunk_size"]
    chunks = [(x[s : min(s + size, n)], y[s : min(s + size, n)]) for s in range(0, n, size)]
    return net, chunks


def squared_loss(output, target):
    """Σ over the chunk of 0.5·‖f(x) − y‖²."""
    return 0.5 * ((output - target) ** 2).sum()


# ----------------------------------------------------------------------------------------------
# The network benchmarks.


class NetworkBench:
    def __init__(self, entry, setup_dir, x, y, options):
        self.entry = entry
        self.options = options
        self.name = entry["arch"]
        self.net, self.chunks = load_network(entry, setup_dir, x, y)
        self.n = entry["examples"]
        self.params = list(self.net.parameters())
        self.theta0 = [p.detach().clone() for p in self.params]
        self.optimizer = torch.optim.SGD(self.params, lr=entry["lr"])

    def restore(self):
        with torch.no_grad():
            for p, p0 in zip(self.params, self.theta0):
                p.copy_(p0)

    def gd_step(self):
        """Zero the gradients, one backward per chunk, one SGD step; loss and accuracy kept."""
        self.optimizer.zero_grad(set_to_none=True)
        loss, correct = 0.0, 0
        for x, y in self.chunks:
            output = self.net(x)
            chunk_loss = squared_loss(output, y) / self.n
            chunk_loss.backward()
            loss += chunk_loss.item()
            correct += (output.argmax(1) == y.argmax(1)).sum().item()
        self.optimizer.step()
        return loss, correct / self.n

    def hvp(self, vector):
        """∇²L·v over the whole set, by double backward per chunk."""
        product = torch.zeros_like(vector)
        for x, y in self.chunks:
            chunk_loss = squared_loss(self.net(x), y) / self.n
            gradient = torch.autograd.grad(chunk_loss, self.params, create_graph=True)
            directional = parameters_to_vector(gradient).mul(vector).sum()
            second = torch.autograd.grad(directional, self.params)
            product += parameters_to_vector([g.contiguous() for g in second])
        return product

    def matvec(self, vector):
        """The HVP as eigsh sees it: numpy in, numpy out."""
        return self.hvp(torch.tensor(vector, dtype=torch.float32)).numpy()

    def sharpness(self, v0):
        """λ_max by eigsh to the benchmark's tolerance; returns value, vector, HVPs."""
        count = [0]

        def counted(vector):
            count[0] += 1
            return self.matvec(np.asarray(vector).ravel())

        p = sum(q.numel() for q in self.params)
        operator = LinearOperator((p, p), matvec=counted, dtype=np.float32)
        values, vectors = eigsh(
            operator, k=1, which=self.options.which, tol=self.entry["tol"], v0=v0
        )
        return float(values[-1]), vectors[:, -1], count[0]

    def run(self, parts):
        results = []
        opts = self.options
        if "gd-step" in parts:
            self.gd_step()  # untimed: first-call allocations
            seconds = []
            for _ in range(opts.repeats):
                self.restore()
                seconds.append(timed(self.gd_step)[1])
            self.restore()
            results.append(
                {"name": f"{self.name}/gd-step", "seconds": spread(seconds), "examples": self.n}
            )
        if "hvp" in parts:
            generator = torch.Generator().manual_seed(1)
            p = sum(q.numel() for q in self.params)
            direction = torch.randn(p, generator=generator, dtype=torch.float64)
            direction = (direction / direction.norm()).numpy()
            self.matvec(direction)  # untimed
            seconds = [timed(lambda: self.matvec(direction))[1] for _ in range(opts.repeats)]
            results.append(
                {
                    "name": f"{self.name}/hvp",
                    "seconds": spread(seconds),
                    "examples": self.n,
                    "params": p,
                }
            )
        if "sharpness" in parts:
            results.extend(self.run_sharpness())
        return results

    def run_sharpness(self):
        opts = self.options
        p = sum(q.numel() for q in self.params)
        cold = {"seconds": [], "hvps": [], "sharpness": []}
        warm = {"seconds": [], "hvps": [], "sharpness": []}
        for repeat in range(opts.sharpness_repeats):
            self.restore()
            v0 = np.random.default_rng(self.entry["seed"] + repeat).standard_normal(p)
            (value, vector, hvps), seconds = timed(lambda: self.sharpness(v0.astype(np.float32)))
            for key, item in (("seconds", seconds), ("hvps", hvps), ("sharpness", value)):
                cold[key].append(item)
            for _ in range(self.entry["warm_steps"]):
                self.gd_step()
            (value, _, hvps), seconds = timed(lambda: self.sharpness(vector))
            for key, item in (("seconds", seconds), ("hvps", hvps), ("sharpness", value)):
                warm[key].append(item)
        self.restore()
        out = []
        for label, record, step in (("cold", cold, 0), ("warm", warm, self.entry["warm_steps"])):
            out.append(
                {
                    "name": f"{self.name}/sharpness-{label}",
                    "seconds": spread(record["seconds"]),
                    "step": step,
                    "tol": self.entry["tol"],
                    "which": opts.which,
                    "hvps": record["hvps"],
                    "sharpness": record["sharpness"],
                }
            )
        return out


# ----------------------------------------------------------------------------------------------
# The minimalist model in torch autograd.


class Minimalist:
    """f(x) = (xᵀu)·∏vᵢ with L = (1/2N)‖Xu·∏v − y‖², float64, from sharplab's warm start."""

    def __init__(self, entry, setup_dir):
        data = load_file(entry["data"])
        self.x = data["x"].double()  # [N, d]
        self.y = data["y"].double().reshape(-1)  # [N]
        start = load_file(os.path.join(setup_dir, entry["params"]))
        self.u0, self.v0 = start["u"].double(), start["v"].double()
        self.lr = entry["lr"]
        self.entry = entry
        self.reset()

    def reset(self):
        self.u = self.u0.clone().requires_grad_(True)
        self.v = self.v0.clone().requires_grad_(True)
        self.eigenvector = None

    def loss(self):
        residual = (self.x @ self.u) * self.v.prod() - self.y  # [N]
        return 0.5 * (residual**2).mean()

    def step(self):
        loss = self.loss()
        grad_u, grad_v = torch.autograd.grad(loss, (self.u, self.v))
        with torch.no_grad():
            self.u -= self.lr * grad_u
            self.v -= self.lr * grad_v
        return loss.item()

    def hvp(self, vector):
        grad_u, grad_v = torch.autograd.grad(self.loss(), (self.u, self.v), create_graph=True)
        directional = torch.cat([grad_u, grad_v]) @ vector
        second_u, second_v = torch.autograd.grad(directional, (self.u, self.v))
        return torch.cat([second_u, second_v])

    def sharpness(self):
        """The top algebraic Hessian eigenvalue, ARPACK to machine precision, warm-started."""
        p = self.u.numel() + self.v.numel()
        def matvec(w):
            return self.hvp(torch.from_numpy(np.asarray(w, dtype=np.float64).ravel())).numpy()

        operator = LinearOperator((p, p), matvec=matvec, dtype=np.float64)
        values, vectors = eigsh(operator, k=1, which="LA", tol=0, v0=self.eigenvector)
        self.eigenvector = vectors[:, -1]
        return float(values[-1])

    def stretch(self, steps):
        """`steps` GD steps from the start, each followed by the exact sharpness."""
        self.reset()
        first = self.sharpness()
        value = first
        for _ in range(steps):
            self.step()
            value = self.sharpness()
        return first, value

    def run(self, steps, repeats):
        self.stretch(1)  # untimed
        seconds, first, last = [], None, None
        for _ in range(repeats):
            (first, last), elapsed = timed(lambda: self.stretch(steps))
            seconds.append(elapsed)
        rates = [steps / s for s in seconds]
        return {
            "name": "minimalist",
            "seconds": spread(seconds),
            "start_step": self.entry["start_step"],
            "steps": steps,
            "lr": self.lr,
            "steps_per_second": spread(rates),
            "sharpness_start": first,
            "sharpness_end": last,
            "method": "double-backward HVP + eigsh(k=1, which=LA, tol=0), warm-started, float64",
        }


# ----------------------------------------------------------------------------------------------


def matmul(size, repeats):
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(size, size, generator=generator)
    b = torch.randn(size, size, generator=generator)
    a @ b  # untimed
    seconds = [timed(lambda: a @ b)[1] for _ in range(repeats)]
    flops = 2.0 * size**3
    return {
        "name": "matmul",
        "seconds": spread(seconds),
        "size": size,
        "flops": flops,
        "peak_flops_per_second": flops / min(seconds),
    }


def cpu_model():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    options = parse_args()
    if options.repeats is None:
        options.repeats = 3 if options.quick else 5
    if options.minimalist_steps is None:
        options.minimalist_steps = 10 if options.quick else 30
    counts = (options.repeats, options.sharpness_repeats, options.minimalist_steps, options.threads)
    if min(counts) < 1:
        sys.exit("error: --repeats, --sharpness-repeats, --minimalist-steps, --threads: use >= 1")
    torch.set_num_threads(options.threads)
    chosen = selected(options.only, options.quick)
    try:
        with open(options.setup) as file:
            setup = json.load(file)
    except OSError as err:
        sys.exit(f"error: cannot read --setup {options.setup} ({err}): run sharplab bench --out")
    setup_dir = os.path.dirname(os.path.abspath(options.setup))

    results = []
    networks = [name for name in chosen if "/" in name]
    if networks:
        if not setup.get("data"):
            sys.exit("error: setup.json names no network data: run sharplab bench --out DIR again")
        data = load_file(setup["data"])
        x, y = data["x"], data["y"]
        entries = {entry["arch"]: entry for entry in setup.get("networks", [])}
        for arch in ("fc-tanh", "cnn-relu"):
            parts = [name.split("/")[1] for name in networks if name.startswith(arch + "/")]
            if not parts:
                continue
            if arch not in entries:
                sys.exit(f"error: setup.json has no {arch}: run sharplab bench --out DIR with it")
            log(f"timing {arch}: {', '.join(parts)}")
            results.extend(NetworkBench(entries[arch], setup_dir, x, y, options).run(parts))
    if "minimalist" in chosen:
        if "minimalist" not in setup:
            sys.exit("error: setup.json has no minimalist: run sharplab bench --out DIR with it")
        log(f"timing the minimalist model: {options.minimalist_steps} steps")
        minimalist = Minimalist(setup["minimalist"], setup_dir)
        results.append(minimalist.run(options.minimalist_steps, options.repeats))
    if "matmul" in chosen:
        size = setup.get("matmul", {}).get("size", 2048)
        log(f"timing the peak matmul: {size}")
        results.append(matmul(size, options.repeats))

    report = {
        "side": "pytorch",
        "version": torch.__version__,
        "scipy": __import__("scipy").__version__,
        "blas": "MKL" if torch.backends.mkl.is_available() else "other",
        "precision": "f32",
        "threads": torch.get_num_threads(),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "quick": options.quick,
        "benchmarks": results,
    }
    if options.json:
        print(json.dumps(report, indent=2))
    else:
        for result in results:
            s = result["seconds"]
            extra = {k: v for k, v in result.items() if k not in ("name", "seconds")}
            times = f"{s['median']:>10.4f} {s['min']:>10.4f} {s['max']:>10.4f}"
            print(f"{result['name']:<24} {times}  {extra}")


if __name__ == "__main__":
    main()
