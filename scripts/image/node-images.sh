#!/usr/bin/env bash
# Makes the two images a kubelet node needs besides kconmon's, locally and without any registry:
#   localhost/kconmon-pause:1.0        the pod sandbox ("pause") image: a static binary compiled here with gcc from the
#                                      few lines of C below (sleeps until SIGINT/SIGTERM, reaps zombies)
#   localhost/kconmon-busybox:<ver>    the chart's init container image (tcpTweaks.image: sh, tr, sysctl), from Debian's
#                                      statically linked busybox (package busybox-static)
# Each is written as an OCI archive for `ctr images import`. Idempotent: kept when its inputs are unchanged.
#
# Usage: scripts/image/node-images.sh     prints key=value lines: pause_image, pause_archive, busybox_image, busybox_archive
# Env:   KCONMON_IMAGE_DIR (default: $HOME/.cache/kconmon/image)
set -euo pipefail

OUT_DIR="${KCONMON_IMAGE_DIR:-${HOME}/.cache/kconmon/image}"
BUSYBOX=/bin/busybox

log() { printf '[node-images] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (buildah)"
for tool in buildah gcc strip; do command -v "${tool}" >/dev/null || die "${tool} is not installed (scripts/setup/system-packages.sh)"; done
[[ -x "${BUSYBOX}" ]] || die "${BUSYBOX} missing (Debian package busybox-static)"
mkdir -p "${OUT_DIR}"
exec 9>"${OUT_DIR}/.node-images.lock"
flock 9

work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT

# make_image NAME ROOTFS ENTRYPOINT-JSON: commits ROOTFS as NAME (uid 0, no shell needed) and writes its archive.
make_image() {
  local name="$1" rootfs="$2" entrypoint="$3" archive="$4" inputs="$5" c
  c="$(buildah from scratch)"
  buildah copy --quiet "${c}" "${rootfs}" / >/dev/null
  buildah config --entrypoint "${entrypoint}" --cmd '[]' --annotation "kconmon.inputs=${inputs}" "${c}"
  buildah commit --quiet --rm "${c}" "${name}" >/dev/null
  rm -f "${archive}.tmp"
  buildah push --quiet "${name}" "oci-archive:${archive}.tmp:${name}" >/dev/null
  mv -f "${archive}.tmp" "${archive}"
}

up_to_date() {
  [[ -s "$2" && "$(buildah inspect --type image --format '{{index .ImageAnnotations "kconmon.inputs"}}' "$1" 2>/dev/null)" == "$3" ]]
}

# --- pause ----------------------------------------------------------------------------------------------------------
cat >"${work}/pause.c" <<'EOF'
/* Pod sandbox process: holds the pod's namespaces until told to stop, reaping any orphan it inherits. */
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
static void reap(int sig) { (void)sig; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGINT, stop);
  signal(SIGTERM, stop);
  signal(SIGCHLD, reap);
  for (;;) pause();
}
EOF
pause_image="localhost/kconmon-pause:1.0"
pause_archive="${OUT_DIR}/kconmon-pause-1.0.oci.tar"
pause_inputs="$( (cat "${work}/pause.c"; gcc --version | head -n 1) | sha256sum | cut -c1-16)"
if up_to_date "${pause_image}" "${pause_archive}" "${pause_inputs}"; then
  log "${pause_image}: up to date"
else
  mkdir -p "${work}/pause-root"
  gcc -static -Os -o "${work}/pause-root/pause" "${work}/pause.c"
  strip "${work}/pause-root/pause"
  make_image "${pause_image}" "${work}/pause-root" '["/pause"]' "${pause_archive}" "${pause_inputs}"
  log "${pause_image}: built ($(stat -c %s "${work}/pause-root/pause") bytes)"
fi

# --- busybox --------------------------------------------------------------------------------------------------------
busybox_version="$("${BUSYBOX}" 2>&1 | sed -n 's/^BusyBox v\([0-9.]*\).*/\1/p' | head -n 1)"
[[ -n "${busybox_version}" ]] || die "cannot read the version of ${BUSYBOX}"
busybox_image="localhost/kconmon-busybox:${busybox_version}"
busybox_archive="${OUT_DIR}/kconmon-busybox-${busybox_version}.oci.tar"
busybox_inputs="$(sha256sum "${BUSYBOX}" | cut -c1-16)"
if up_to_date "${busybox_image}" "${busybox_archive}" "${busybox_inputs}"; then
  log "${busybox_image}: up to date"
else
  root="${work}/busybox-root"
  mkdir -p "${root}/bin" "${root}/tmp"
  cp "${BUSYBOX}" "${root}/bin/busybox"
  for applet in $("${BUSYBOX}" --list); do
    [[ "${applet}" == busybox ]] || ln -s busybox "${root}/bin/${applet}"
  done
  make_image "${busybox_image}" "${root}" '[]' "${busybox_archive}" "${busybox_inputs}"
  log "${busybox_image}: built"
fi

echo "pause_image=${pause_image}"
echo "pause_archive=${pause_archive}"
echo "busybox_image=${busybox_image}"
echo "busybox_archive=${busybox_archive}"
