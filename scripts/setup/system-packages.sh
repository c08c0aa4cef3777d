#!/usr/bin/env bash
# Installs the Debian packages the test suites use (Prometheus/promtool, DNS servers, nftables, iproute2, ping; for the
# image and the real-node suite: buildah, runc, containerd, the CNI plugins, gcc for the pause binary, a static busybox
# for the init container image; chromium for the web view's browser test), only when one is missing. Idempotent: a
# machine that has them all runs no apt command.
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
  [/usr/bin/buildah]=buildah
  [/usr/sbin/runc]=runc
  [/usr/bin/containerd]=containerd
  [/usr/bin/ctr]=containerd
  [/usr/lib/cni/bridge]=containernetworking-plugins
  [/usr/lib/cni/host-local]=containernetworking-plugins
  [/usr/lib/cni/loopback]=containernetworking-plugins
  [/usr/lib/cni/portmap]=containernetworking-plugins
  [/bin/busybox]=busybox-static
  [/usr/bin/gcc]=gcc
  [/usr/bin/strip]=binutils
  [/usr/sbin/conntrack]=conntrack
  [/usr/bin/chromium]=chromium
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
# Likewise containerd: the real-node suite starts its own, with its own config, root and socket.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet containerd 2>/dev/null; then $SUDO systemctl stop containerd || true; fi
