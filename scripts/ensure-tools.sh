#!/usr/bin/env bash
# Install the outside programs the tests drive, from Debian's packages, when missing:
# PrusaSlicer's CLI (quotes, slicing), Mosquitto (the agent's broker; the tests start
# their own on free ports) and Chromium (the pages' browser tests). Idempotent; safe to run on every `make test`.
set -euo pipefail
missing=()
command -v prusa-slicer >/dev/null 2>&1 || missing+=(prusa-slicer)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_passwd >/dev/null 2>&1 || missing+=(mosquitto)
# Chromium for the browser tests of the web pages (Playwright drives Debian's build)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
if [ ${#missing[@]} -gt 0 ]; then
  echo "ensure-tools: installing ${missing[*]} (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi
prusa-slicer --help >/dev/null 2>&1 || { echo "ensure-tools: prusa-slicer does not run" >&2; exit 1; }
