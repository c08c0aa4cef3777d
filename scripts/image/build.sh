#!/usr/bin/env bash
# Builds the kconmon image from the repository's Dockerfile with `buildah bud`, on the local bases of
# scripts/image/base.sh (nothing is pulled from a registry; the build stage's `npm ci` reaches the npm registry only),
# writes it as an OCI archive (for `ctr images import`, `kind load image-archive`, `docker load` via skopeo...) and
# prints its sizes: uncompressed (the layers as unpacked on a node) and compressed (gzip layers, as in a registry).
# Idempotent: when the image already carries the hash of its inputs, nothing is rebuilt.
#
# Usage: scripts/image/build.sh [--force]
# Env:   KCONMON_IMAGE_DIR (default: $HOME/.cache/kconmon/image): the archive and the OCI layout go there.
# Output (stdout, key=value, one a line): image, archive, uncompressed_bytes, compressed_bytes, base_bytes, app_bytes.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
OUT_DIR="${KCONMON_IMAGE_DIR:-${HOME}/.cache/kconmon/image}"
force=0
[[ "${1:-}" == "--force" ]] && force=1

log() { printf '[image] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (buildah)"
command -v buildah >/dev/null || die "buildah is not installed (scripts/setup/system-packages.sh)"
command -v runc >/dev/null || die "runc is not installed (scripts/setup/system-packages.sh)"
mkdir -p "${OUT_DIR}"
# One build at a time (the image test and the real-node suite may both ask for it).
exec 9>"${OUT_DIR}/.lock"
flock 9

mapfile -t bases < <(bash "${REPO_ROOT}/scripts/image/base.sh")
runtime_base="${bases[0]}"
build_base="${bases[1]}"
version="$(sed -n 's/^  "version": "\(.*\)",$/\1/p' "${REPO_ROOT}/package.json" | head -n 1)"
[[ -n "${version}" ]] || die "no version in package.json"
image="localhost/kconmon:${version}"
archive="${OUT_DIR}/kconmon-${version}.oci.tar"

inputs="$(
  cd "${REPO_ROOT}"
  {
    find Dockerfile .dockerignore package.json package-lock.json tsconfig.json src bin scripts/image/bundle.ts -type f -print0 \
      | sort -z | xargs -0 sha256sum
    buildah inspect --type image --format '{{.FromImageID}}' "${runtime_base}"
    buildah inspect --type image --format '{{.FromImageID}}' "${build_base}"
  } | sha256sum | cut -c1-16
)"

have="$(buildah inspect --type image --format '{{index .ImageAnnotations "kconmon.inputs"}}' "${image}" 2>/dev/null || true)"
if [[ ${force} -eq 0 && "${have}" == "${inputs}" && -s "${archive}" ]]; then
  log "${image}: up to date (inputs ${inputs})"
else
  log "${image}: buildah bud on ${runtime_base} (build stage: ${build_base}) ..."
  start="$(date +%s)"
  # --network host: the build stage's npm ci reaches the npm registry without a CNI network (and its NAT) for the
  # build container. --layers keeps the npm ci layer between builds that change only the sources.
  buildah bud --quiet --layers --pull=never --network host \
    --build-arg "NODE_IMAGE=${runtime_base}" --build-arg "BUILD_IMAGE=${build_base}" \
    --annotation "kconmon.inputs=${inputs}" --tag "${image}" --file "${REPO_ROOT}/Dockerfile" "${REPO_ROOT}" >/dev/null
  log "${image}: built in $(($(date +%s) - start)) s"
  rm -rf "${OUT_DIR}/oci" "${archive}.tmp"
  buildah push --quiet --format oci "${image}" "oci:${OUT_DIR}/oci:${image}" >/dev/null
  tar -C "${OUT_DIR}/oci" -cf "${archive}.tmp" .
  mv -f "${archive}.tmp" "${archive}"
  # Build-stage layers and the replaced image are no longer referenced by a name.
  buildah rmi --prune >/dev/null 2>&1 || true
fi

# Sizes from the OCI layout: compressed = the gzip layer blobs; uncompressed = the same layers unpacked.
manifest_digest="$(sed -n 's/.*"digest":"sha256:\([0-9a-f]*\)".*/\1/p' "${OUT_DIR}/oci/index.json" | head -n 1)"
[[ -n "${manifest_digest}" ]] || die "no manifest in ${OUT_DIR}/oci/index.json"
layers=()
mapfile -t layers < <(node -e '
  const m = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  for (const l of m.layers) console.log(l.digest.replace("sha256:", ""));
' "${OUT_DIR}/oci/blobs/sha256/${manifest_digest}")
compressed=0
uncompressed=0
sizes=()
for layer in "${layers[@]}"; do
  blob="${OUT_DIR}/oci/blobs/sha256/${layer}"
  c="$(stat -c %s "${blob}")"
  u="$(gzip -dc "${blob}" | wc -c)"
  compressed=$((compressed + c))
  uncompressed=$((uncompressed + u))
  sizes+=("${u}")
done
# The first layer is the runtime base (node + libraries); the others are the application.
base_bytes="${sizes[0]}"
app_bytes=$((uncompressed - base_bytes))
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
log "${image}: $(mb "${uncompressed}") uncompressed ($(mb "${base_bytes}") base, $(mb "${app_bytes}") kconmon)," \
  "$(mb "${compressed}") compressed, ${#layers[@]} layers"
log "archive: ${archive}"
echo "image=${image}"
echo "archive=${archive}"
echo "uncompressed_bytes=${uncompressed}"
echo "compressed_bytes=${compressed}"
echo "base_bytes=${base_bytes}"
echo "app_bytes=${app_bytes}"
