#!/usr/bin/env bash
# Everything a fresh machine needs before sharplab runs: Debian's Fashion-MNIST package and the
# CIFAR-10 cache under datasets/ (decoded once from ../shared/cifar10, or from --from PATH).
# Safe to run again: each step is skipped when already done.
#
# Without --from, the CIFAR-10 tarball is looked for in ../shared/cifar10 beside this checkout,
# then beside the repository it was cloned from (a CI clone in a temporary folder), then in
# /work/shared/cifar10; `sharplab data prepare` names what it looked for when none is there.
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
    args=("$@")
    if [ ${#args[@]} -eq 0 ]; then
        origin="$(git config --get remote.origin.url 2>/dev/null || true)"
        for candidate in "../shared/cifar10" "${origin:+$origin/../shared/cifar10}" "/work/shared/cifar10"; do
            if [ -n "$candidate" ] && [ -f "$candidate/cifar10-jpeg-q75.tar.gz" ]; then
                args=(--from "$candidate")
                break
            fi
        done
    fi
    echo "setup: decoding CIFAR-10 into datasets/cifar10 (once)" >&2
    cargo run --release --quiet -- data prepare "${args[@]}"
fi
