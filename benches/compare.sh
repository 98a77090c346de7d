#!/usr/bin/env bash
# benches/compare.sh [--quick] [--rounds K]: sharplab against PyTorch on this CPU, side by side.
#
# Creates benches/.venv (torch, scipy, numpy, safetensors from PyPI) when it is missing, builds
# sharplab in release (into $CARGO_TARGET_DIR when set), exports the CIFAR-10 subsets once into
# benches/out/, then runs K rounds, each one `sharplab bench --json` and one
# `benches/reference.py --json` (alternating which goes first), with 2 threads on both sides.
# The first round also writes benches/out/setup/ (θ₀ of each network, the minimalist warm start,
# setup.json), so both sides time the same work on the same data and parameters. Ends with the
# table of ratios sharplab / PyTorch (min, median, max over the rounds), saved to
# benches/out/summary.txt, and one line of JSON:
#   {"gd_step": r, "hvp": r, "sharpness_hvps_warm": n, "minimalist": r, "peak_fraction": f}
#
# The sharpness benchmarks run in the first round only: their HVP counts are the same in every
# round (same θ₀, same seeds), and their time is those counts times an HVP's, which every round
# measures. Default: 5 rounds of 5 repeats. --quick: 2 rounds of 3 repeats, a shorter
# minimalist stretch and no cnn-relu sharpness (about five minutes on 2 quiet cores). The
# dataset cache must exist (`sharplab data prepare`; set SHARPLAB_DATA_DIR if it is not in
# ./datasets).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
quick=0
rounds=""
threads=2

while [ $# -gt 0 ]; do
    case "$1" in
        --quick) quick=1 ;;
        --rounds)
            [ $# -ge 2 ] || { echo "error: --rounds needs a number, e.g. --rounds 5" >&2; exit 2; }
            rounds="$2"
            shift
            ;;
        -h | --help)
            awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
            exit 0
            ;;
        *)
            echo "error: unknown argument '$1': use benches/compare.sh [--quick] [--rounds K]" >&2
            exit 2
            ;;
    esac
    shift
done
if [ -z "$rounds" ]; then
    rounds=$([ "$quick" = 1 ] && echo 2 || echo 5)
fi
case "$rounds" in
    '' | *[!0-9]* | 0)
        echo "error: --rounds '$rounds': use a whole number of 1 or more" >&2
        exit 2
        ;;
esac

say() { echo "compare.sh: $*" >&2; }

export RAYON_NUM_THREADS=$threads OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads

venv="$here/.venv"
python="$venv/bin/python"
if [ ! -x "$python" ]; then
    say "creating $venv (torch's wheel pulls large CUDA libraries; it runs on the CPU here)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet torch scipy numpy safetensors
fi

cd "$root"
say "building sharplab (release)"
cargo build --release --quiet
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac
sharplab="$target/release/sharplab"

out="$here/out"
mkdir -p "$out"
rm -rf "$out/setup" "$out/rounds"
mkdir -p "$out/rounds"
data="$out/cifar10-first5000.safetensors"
minimalist_data="$out/cifar10-catdog1000.safetensors"
say "exporting the data into $out"
"$sharplab" -q data export --dataset cifar10 --n 5000 --first-n --targets onehot --out "$data"
"$sharplab" -q data export --dataset cifar10 --classes cat,dog --n 1000 --targets pm1 \
    --out "$minimalist_data"

quick_flag=()
[ "$quick" = 1 ] && quick_flag=(--quick)

run_sharplab() { # round, extra flags...
    local round="$1"
    shift
    say "round $round/$rounds: sharplab bench"
    "$sharplab" -q bench --json "${quick_flag[@]}" --threads "$threads" --data "$data" \
        --minimalist-data "$minimalist_data" "$@" >"$out/rounds/$round-sharplab.json"
}

run_pytorch() { # round, extra flags...
    local round="$1"
    shift
    say "round $round/$rounds: benches/reference.py"
    "$python" "$here/reference.py" --json "${quick_flag[@]}" --threads "$threads" \
        --setup "$out/setup/setup.json" "$@" >"$out/rounds/$round-pytorch.json"
}

load_before=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)
for round in $(seq 1 "$rounds"); do
    label=$(printf '%02d' "$round")
    only=()
    if [ "$round" -gt 1 ]; then
        only=(--only gd-step,hvp,minimalist,matmul)
    fi
    if [ "$round" = 1 ]; then
        run_sharplab "$label" --out "$out/setup"
        run_pytorch "$label"
    elif [ $((round % 2)) = 0 ]; then
        run_pytorch "$label" "${only[@]}"
        run_sharplab "$label" "${only[@]}"
    else
        run_sharplab "$label" "${only[@]}"
        run_pytorch "$label" "${only[@]}"
    fi
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)

# PyTorch's OpenMP threads slow down far more than sharplab's when other processes share the
# cores, so the load is part of the record: above the thread count, the ratios are not a
# measurement.
{
    echo "load average (1, 5, 15 min) before the rounds: $load_before; after: $load_after"
    "$python" "$here/summarize.py" "$out/rounds"
} | tee "$out/summary.txt"
