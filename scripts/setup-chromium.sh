#!/usr/bin/env bash
# Installs Debian's headless-capable Chromium for the HTML report test (tests/report.rs), only
# when it is missing. Needs root (CI runs as root); does nothing when chromium is already there.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "setup-chromium: /usr/bin/chromium is missing and this is not root; install the 'chromium' package" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium > /dev/null
