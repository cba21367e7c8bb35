#!/usr/bin/env bash
# Install what the app and its tests need on Debian 12 with Python 3.11+: the system Chromium and
# CJK fonts (chart/PDF export, browser tests), nginx (several app servers behind it, deploy/ and
# its test) and the Python packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="chromium fonts-noto-cjk fonts-arphic-uming fonts-arphic-ukai fonts-wqy-zenhei nginx"
missing=$(for p in $APT_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi
# Playwright drives Debian's /usr/bin/chromium: never `playwright install`.
# requirements.txt says what the project needs; requirements.lock pins the versions CI tested
# (pip-tools; see the README to upgrade them), so a fresh machine gets those and no newer ones.
python -m pip install -q -r requirements.txt -c requirements.lock
