#!/usr/bin/env bash
# Everything a fresh machine needs before sharplab runs: Debian's Fashion-MNIST package and the
# CIFAR-10 cache under datasets/ (decoded once from ../shared/cifar10, or from --from PATH).
# Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d /usr/share/datasets/fashion-mnist ]; then
    echo "setup: installing Debian's dataset-fashion-mnist" >&2
    sudo_cmd=""
    [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq dataset-fashion-mnist >/dev/null
fi

if [ ! -f datasets/cifar10/format.json ]; then
    echo "setup: decoding CIFAR-10 into datasets/cifar10 (once)" >&2
    cargo run --release --quiet -- data prepare "$@"
fi
