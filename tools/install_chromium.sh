#!/usr/bin/env bash
# Make a headless Chromium available for tools/check_report_browser.py, which opens
# the HTML report in a real browser and checks that its tables and images render.
# Uses Debian's `chromium` package; needs root and apt-get. Exits non-zero (and
# changes nothing) where it cannot install, so callers can decide what to do.
set -euo pipefail
for name in chromium chromium-browser google-chrome; do
  if command -v "$name" > /dev/null; then
    echo "browser: $(command -v "$name")"
    exit 0
  fi
done
if [ "$(id -u)" != 0 ] || ! command -v apt-get > /dev/null; then
  echo "no Chromium, and no root apt-get to install it" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends chromium > /dev/null
echo "browser: $(command -v chromium)"
