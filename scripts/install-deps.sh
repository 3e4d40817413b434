#!/usr/bin/env bash
# Installs the Debian packages saed builds, runs and tests with, when any is missing.
set -euo pipefail

packages=(libopenblas-dev zlib1g-dev libsqlite3-dev pkg-config curl dataset-fashion-mnist)
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
