#!/usr/bin/env bash
# Installs the Debian packages the test suites use (Prometheus/promtool, DNS servers, nftables, iproute2, ping),
# only when one is missing. Idempotent: a machine that has them all runs no apt command.
set -euo pipefail

# binary -> Debian package
declare -A PACKAGES=(
  [/usr/bin/promtool]=prometheus
  [/usr/bin/prometheus]=prometheus
  [/usr/sbin/unbound]=unbound
  [/usr/sbin/dnsmasq]=dnsmasq-base
  [/usr/sbin/nft]=nftables
  [/usr/sbin/ip]=iproute2
  [/usr/bin/ping]=iputils-ping
  [/usr/bin/pgrep]=procps
)

missing=()
for binary in "${!PACKAGES[@]}"; do
  [[ -x "$binary" ]] || missing+=("${PACKAGES[$binary]}")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "[system-packages] all present"
  exit 0
fi
mapfile -t wanted < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "[system-packages] installing: ${wanted[*]}"
SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${wanted[@]}"
# Debian's prometheus package starts a service that would scrape and listen: tests start their own.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then $SUDO systemctl stop prometheus || true; fi
