#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (nothing is downloaded by npm). Installs it when it is
# missing and we may (root with apt-get); otherwise says exactly what to do.
set -euo pipefail
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  # Two checkouts testing at once on a fresh machine both get here: one installs, the other waits
  # for it (and apt waits for any other apt or dpkg run) instead of failing on apt's lock.
  exec 9>/tmp/junjo-ensure-chromium.lock
  flock 9
  [ -x "$CHROMIUM" ] && exit 0
  echo "Installing Debian's chromium for the browser tests…"
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends chromium >/dev/null
  exit 0
fi
echo "The browser tests need Chromium at $CHROMIUM: run 'sudo apt-get install chromium' (or set CHROMIUM_PATH)." >&2
exit 1
