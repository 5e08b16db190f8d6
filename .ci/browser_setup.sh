#!/usr/bin/env bash
# CI helper: install the distribution's Chromium for the dashboard's browser test
# (tests/test_dashboard_browser.py, Playwright with executable_path=/usr/bin/chromium).
#
#   bash .ci/browser_setup.sh
#
# `playwright install` downloads its browsers from a CDN that a machine without general internet
# access cannot reach; Debian's `chromium` package installs with apt. Debian/Ubuntu only, as root.
# It never fails: when it cannot install Chromium it prints `browser_setup: skipped: <reason>` and
# exits 0 (the browser test then skips, saying why).
set -uo pipefail

say() { echo "browser_setup: $*"; }
skip() { say "skipped: $*"; exit 0; }
BROWSER=/usr/bin/chromium

if [ -x "$BROWSER" ] && "$BROWSER" --version >/dev/null 2>&1; then
  say "$("$BROWSER" --version 2>/dev/null) already installed"
  exit 0
fi
[ "$(id -u)" = 0 ] || skip "not root (installing chromium with apt needs root)"
command -v apt-get >/dev/null 2>&1 || skip "apt-get not available (install Chromium at $BROWSER by hand)"
start=$(date +%s)
apt_install() {
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/tmp/browser_setup_apt.log 2>&1
}
if ! apt_install; then
  say "apt-get install failed; updating the package lists and retrying"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >>/tmp/browser_setup_apt.log 2>&1
  apt_install || skip "apt-get install chromium failed (see /tmp/browser_setup_apt.log: $(tail -n 1 /tmp/browser_setup_apt.log))"
fi
[ -x "$BROWSER" ] || skip "installed, but $BROWSER is missing"
say "installed $("$BROWSER" --version 2>/dev/null) in $(( $(date +%s) - start )) s"
