"""Pairs the rounds of `benches/compare.sh` (NN-sharplab.json and NN-pytorch.json: one
`sharplab bench --json` and one `reference.py --json` run each) and prints, per benchmark, each
side's median time and the ratio sharplab / PyTorch with min, median and max over the rounds;
then one line of JSON with the headline numbers:

- gd_step, hvp: fc-tanh's time ratio sharplab / PyTorch (goal ≤ 1);
- sharpness_hvps_warm: sharplab's HVPs for a warm-started estimate to 1e-3, the larger of
  fc-tanh's and cnn-relu's medians (goal ≤ 8);
- minimalist: sharplab's GD steps per second (exact sharpness every step) over PyTorch's
  (goal ≥ 100);
- peak_fraction: sharplab's fc-tanh GD step in FLOP/s over the best matmul rate measured in the
  same round on either side (goal ≥ 0.5).

Each ratio is computed within a round, from that round's medians, then summarized over the
rounds: one side's time alone drifts on a shared machine, the ratio much less.

Usage: python benches/summarize.py ROUNDS_DIR
"""

import glob
import json
import os
import statistics
import sys

GOALS = "gd_step ≤ 1, hvp ≤ 1, sharpness_hvps_warm ≤ 8, minimalist ≥ 100, peak_fraction ≥ 0.5"


def load_rounds(folder):
    """[(sharplab results by name, pytorch results by name, the two reports)] per round."""
    rounds = []
    for path in sorted(glob.glob(os.path.join(folder, "*-sharplab.json"))):
        other = path[: -len("sharplab.json")] + "pytorch.json"
        if not os.path.exists(other):
            continue
        with open(path) as file:
            sharplab = json.load(file)
        with open(other) as file:
            pytorch = json.load(file)
        rounds.append((by_name(sharplab), by_name(pytorch), sharplab, pytorch))
    return rounds


def by_name(report):
    return {result["name"]: result for result in report["benchmarks"]}


def spread(values):
    """(min, median, max), or None for no values."""
    values = [v for v in values if v is not None]
    return (min(values), statistics.median(values), max(values)) if values else None


def show(triple):
    return "-" if triple is None else " / ".join(f"{v:.3g}" for v in triple)


def median(result, key="seconds"):
    return result[key]["median"]


def pairs_of(rounds, name):
    """[(sharplab result, pytorch result)] of `name` in every round that has it on both sides."""
    return [(s[name], p[name]) for s, p, _, _ in rounds if name in s and name in p]


def timed_row(name, pairs):
    """One table row: each side's median time, the ratio over rounds, and a note."""
    sharplab = statistics.median(median(a) for a, _ in pairs)
    pytorch = statistics.median(median(b) for _, b in pairs)
    ratio = spread([median(a) / median(b) for a, b in pairs])
    note = ""
    first_s, first_p = pairs[0]
    if "sharpness" in name:
        value_s, value_p = first_s["sharpness"][0], first_p["sharpness"][0]
        note = (
            f"HVPs sharplab {[h for a, _ in pairs for h in a['hvps']]}, "
            f"PyTorch {[h for _, b in pairs for h in b['hvps']]}; λ_max {value_s:.6g} vs "
            f"{value_p:.6g} (rel. diff {abs(value_s - value_p) / abs(value_p):.1e})"
        )
    elif "flops" in first_s:
        flops = first_s["flops"]
        note = (
            f"N = {first_s['examples']}, {flops / 1e9:.2f} GFLOP: sharplab "
            f"{flops / sharplab / 1e9:.1f}, PyTorch {flops / pytorch / 1e9:.1f} GFLOP/s"
        )
    line = f"{name:<24} {sharplab:>11.4f} {pytorch:>11.4f}   {show(ratio):<26} {note}"
    return line, ratio


def peak_fractions(rounds):
    """Per round: sharplab's fc-tanh GD step FLOP/s over the best matmul rate of the round."""
    fractions = []
    for s, p, _, _ in rounds:
        step = s.get("fc-tanh/gd-step")
        peaks = [r["peak_flops_per_second"] for r in (s.get("matmul"), p.get("matmul")) if r]
        if step and peaks:
            fractions.append(step["flops"] / median(step) / max(peaks))
    return spread(fractions)


def warm_hvps(rounds):
    """The larger of fc-tanh's and cnn-relu's median warm-start HVP counts (sharplab)."""
    medians = []
    for arch in ("fc-tanh", "cnn-relu"):
        name = f"{arch}/sharpness-warm"
        counts = [h for s, _, _, _ in rounds if name in s for h in s[name]["hvps"]]
        if counts:
            medians.append(statistics.median(counts))
    return max(medians) if medians else None


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: summarize.py ROUNDS_DIR")
    rounds = load_rounds(sys.argv[1])
    if not rounds:
        sys.exit(f"error: no NN-sharplab.json with its NN-pytorch.json in {sys.argv[1]}")
    _, _, first_s, first_p = rounds[0]
    print(
        f"sharplab {first_s['version']} ({first_s['backend']}) vs PyTorch {first_p['version']} "
        f"({first_p['blas']}), {len(rounds)} rounds, threads {first_s['threads']} / "
        f"{first_p['threads']}, {first_s['cpu']} ({first_s['logical_cpus']} logical CPUs)\n"
    )

    timed = []
    for s, p, _, _ in rounds:
        timed += [n for n in s if n in p and n not in timed and n not in ("minimalist", "matmul")]
    header = (
        f"{'benchmark':<24} {'sharplab s':>11} {'PyTorch s':>11}   "
        f"{'ratio min / median / max':<26} notes"
    )
    print(header + "\n" + "-" * len(header))
    ratios = {}
    for name in timed:
        line, ratios[name] = timed_row(name, pairs_of(rounds, name))
        print(line)

    minimalist = pairs_of(rounds, "minimalist")
    speedup = spread(
        [median(a, "steps_per_second") / median(b, "steps_per_second") for a, b in minimalist]
    )
    if minimalist:
        a, b = minimalist[0]
        rate_s = statistics.median(median(x, "steps_per_second") for x, _ in minimalist)
        rate_p = statistics.median(median(y, "steps_per_second") for _, y in minimalist)
        print(
            f"\nminimalist, GD steps/s with the exact sharpness every step, from step "
            f"{a['start_step']}: sharplab {rate_s:.4g} ({a['steps']} steps a repeat), PyTorch "
            f"{rate_p:.4g} ({b['steps']} steps a repeat); speedup {show(speedup)}"
        )

    matmul = pairs_of(rounds, "matmul")
    if matmul:
        best_s = max(a["peak_flops_per_second"] for a, _ in matmul)
        best_p = max(b["peak_flops_per_second"] for _, b in matmul)
        print(
            f"matmul peak, f32 {matmul[0][0]['size']}²: sharplab (burn-flex) {best_s / 1e9:.1f}, "
            f"PyTorch {best_p / 1e9:.1f} GFLOP/s (the best of each side)"
        )
    fraction = peak_fractions(rounds)
    if fraction:
        print(f"fc-tanh GD step over the round's best matmul peak: {show(fraction)}")

    def middle(triple):
        return triple[1] if triple else None

    headline = {
        "gd_step": middle(ratios.get("fc-tanh/gd-step")),
        "hvp": middle(ratios.get("fc-tanh/hvp")),
        "sharpness_hvps_warm": warm_hvps(rounds),
        "minimalist": middle(speedup),
        "peak_fraction": middle(fraction),
    }
    print(f"\ngoals: {GOALS}")
    print(json.dumps({k: round(v, 4) if isinstance(v, float) else v for k, v in headline.items()}))


if __name__ == "__main__":
    main()
