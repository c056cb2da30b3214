#!/bin/sh
# Debian's promtool for test/unit/monitoring.test.ts (`promtool check rules`, `promtool test rules` on
# deploy/monitoring/). It comes with the `prometheus` package, installed with apt-get only when promtool is missing
# and this runs as root (CI). The package's service is not started where policy-rc.d forbids it (containers); where it
# was started, it is stopped and disabled: the tests need the tool, not a Prometheus server listening on :9090.
PROMTOOL="${PROMTOOL_PATH:-/usr/bin/promtool}"
if [ -x "$PROMTOOL" ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's prometheus package for promtool (apt-get; once)..."
  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus || exit $?
  if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
  exit 0
fi
echo "warning: $PROMTOOL is missing and this is not root with apt-get: install Debian's prometheus package (sudo apt-get install prometheus) or set PROMTOOL_PATH; the monitoring test will fail until then." >&2
exit 0
