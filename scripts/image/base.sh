#!/usr/bin/env bash
# Makes the two local base images the Dockerfile is built on here, without pulling anything from a registry:
#   localhost/kconmon-node:<node version>        runtime base: the project's own Node binary (node_modules/node, stripped)
#                                                and the host's (Debian) shared libraries it needs, /etc/passwd with the
#                                                unprivileged user 1000 "node", /tmp. No shell, no package manager.
#   localhost/kconmon-node-build:<node version>  build base: the runtime base plus /bin/sh (dash), /usr/bin/env, the
#                                                host's npm and its CA bundle, for the Dockerfile's `npm ci` stage.
# Both stand in for the default node:24-bookworm-slim (same layout: node in /usr/local/bin, user 1000).
# Idempotent: an image whose kconmon.base-inputs label matches is kept.
#
# Usage: scripts/image/base.sh        prints the two image names (runtime, build), one per line
# Env:   KCONMON_NODE_BINARY (default: node_modules/node/bin/node), KCONMON_NPM_DIR (default: the host npm's directory)
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
NODE_BINARY="${KCONMON_NODE_BINARY:-${REPO_ROOT}/node_modules/node/bin/node}"
NPM_DIR="${KCONMON_NPM_DIR:-$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")}"
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt

log() { printf '[image-base] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (buildah)"
command -v buildah >/dev/null || die "buildah is not installed (scripts/setup/system-packages.sh)"
[[ -x "${NODE_BINARY}" ]] || die "${NODE_BINARY} is not executable (npm ci installs it)"
[[ -f "${NPM_DIR}/bin/npm-cli.js" ]] || die "${NPM_DIR} is not an npm installation"

node_version="$("${NODE_BINARY}" --version)"
node_version="${node_version#v}"
runtime_image="localhost/kconmon-node:${node_version}"
build_image="localhost/kconmon-node-build:${node_version}"
inputs="$( (sha256sum "${NODE_BINARY}" "${BASH_SOURCE[0]}" | cut -c1-64; "${NPM_DIR}/bin/npm-cli.js" --version 2>/dev/null || true) | sha256sum | cut -c1-16)"

has_image() {
  [[ "$(buildah inspect --type image --format '{{index .ImageAnnotations "kconmon.base-inputs"}}' "$1" 2>/dev/null)" == "${inputs}" ]]
}

work="$(mktemp -d)"
containers=()
cleanup() {
  local c
  for c in "${containers[@]}"; do buildah rm "${c}" >/dev/null 2>&1 || true; done
  rm -rf "${work}"
}
trap cleanup EXIT

# Copies a host binary and every shared library it loads into the rootfs, at the same paths.
copy_with_libraries() {
  local rootfs="$1" binary="$2" target="$3" lib
  install -D -m 0755 "${binary}" "${rootfs}${target}"
  for lib in $(ldd "${binary}" | awk '/=> \//{print $3} /^[ \t]*\/lib/{print $1}'); do
    [[ -e "${rootfs}${lib}" ]] || install -D -m 0755 "$(readlink -f "${lib}")" "${rootfs}${lib}"
  done
}

# commit ROOTFS IMAGE FROM [buildah config options...]
commit() {
  local rootfs="$1" image="$2" from="$3" c
  shift 3
  c="$(buildah from --pull=never "${from}")"
  containers+=("${c}")
  buildah copy --quiet "${c}" "${rootfs}" / >/dev/null
  buildah config --env PATH=/usr/local/bin:/usr/bin:/bin --user 0:0 --workingdir / --cmd '["node"]' \
    --annotation "kconmon.base-inputs=${inputs}" --label "org.opencontainers.image.title=${image}" "$@" "${c}"
  buildah commit --quiet --rm "${c}" "${image}" >/dev/null
  containers=("${containers[@]/${c}/}")
}

if has_image "${runtime_image}"; then
  log "${runtime_image}: up to date"
else
  log "${runtime_image}: making it from ${NODE_BINARY} (Node ${node_version}) and the host's libraries"
  rootfs="${work}/runtime"
  mkdir -p "${rootfs}"/{etc,tmp,usr/local/bin}
  chmod 1777 "${rootfs}/tmp"
  copy_with_libraries "${rootfs}" "${NODE_BINARY}" /usr/local/bin/node
  strip --strip-all "${rootfs}/usr/local/bin/node"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnode:x:1000:1000::/home/node:/sbin/nologin\n' >"${rootfs}/etc/passwd"
  printf 'root:x:0:\nnode:x:1000:\n' >"${rootfs}/etc/group"
  printf 'hosts: files dns\n' >"${rootfs}/etc/nsswitch.conf"
  install -d -m 0755 -o 1000 -g 1000 "${rootfs}/home/node"
  commit "${rootfs}" "${runtime_image}" scratch
fi

if has_image "${build_image}"; then
  log "${build_image}: up to date"
else
  log "${build_image}: adding sh, env and npm $("${NPM_DIR}/bin/npm-cli.js" --version) to ${runtime_image}"
  rootfs="${work}/build"
  mkdir -p "${rootfs}/usr/local/lib/node_modules" "${rootfs}/usr/local/bin" "${rootfs}/root"
  copy_with_libraries "${rootfs}" /bin/dash /bin/sh
  copy_with_libraries "${rootfs}" /usr/bin/env /usr/bin/env
  cp -a "${NPM_DIR}" "${rootfs}/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "${rootfs}/usr/local/bin/npm"
  # The host's CA bundle (it may hold a local TLS proxy's CA), for npm's connection to the registry.
  ca_env=()
  if [[ -f "${CA_BUNDLE}" ]]; then
    install -D -m 0644 "${CA_BUNDLE}" "${rootfs}${CA_BUNDLE}"
    ca_env=(--env "NODE_EXTRA_CA_CERTS=${CA_BUNDLE}")
  fi
  commit "${rootfs}" "${build_image}" "${runtime_image}" --env NPM_CONFIG_UPDATE_NOTIFIER=false "${ca_env[@]}"
fi

echo "${runtime_image}"
echo "${build_image}"
