#!/bin/sh
# Debian's chromium for the browser test (test/ui/temporal-ui.browser.test.ts), driven by playwright-core: no browser
# download. Installed with apt-get only when it is missing and this runs as root (CI); otherwise a warning, and the
# browser test fails with the same explanation (it never skips).
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser test (apt-get; once)..."
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
  exit $?
fi
echo "warning: $CHROMIUM is missing and this is not root with apt-get: install Debian's chromium (sudo apt-get install chromium) or set CHROMIUM_PATH; the browser test will fail until then." >&2
exit 0
