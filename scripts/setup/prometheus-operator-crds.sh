#!/usr/bin/env bash
# Fetches the Prometheus Operator CRDs the chart's optional resources need (ServiceMonitor, PodMonitor,
# PrometheusRule), so test/chart can install them into the test kube-apiserver. They come from the pinned Go module
# github.com/prometheus-operator/prometheus-operator (example/prometheus-operator-crd/ in its source), downloaded
# with `go mod download` from the Go module proxy and checked against the pinned module hash.
#
# Idempotent and cached: nothing is fetched when the stamp matches.
#
# Usage: scripts/setup/prometheus-operator-crds.sh
# Env:   KCONMON_TOOLS_DIR  (default: $HOME/.cache/kconmon/tools); the CRDs go to
#        $KCONMON_TOOLS_DIR/prometheus-operator-crds/, with a "VERSION" stamp file.
set -euo pipefail

TOOLS_DIR="${KCONMON_TOOLS_DIR:-${HOME}/.cache/kconmon/tools}"
OUT_DIR="${TOOLS_DIR}/prometheus-operator-crds"

# Pinned module version and its go.sum hash (h1:), so a changed upstream zip is refused.
MODULE="github.com/prometheus-operator/prometheus-operator"
VERSION="v0.85.0"
MODULE_SUM="h1:M5xLCLEoaW2IJfnuCwFzzpL+jSVQu3KGT84Pye+fW8s="
CRDS=(
  monitoring.coreos.com_servicemonitors.yaml
  monitoring.coreos.com_podmonitors.yaml
  monitoring.coreos.com_prometheusrules.yaml
)

log() { printf '[prometheus-operator-crds] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

want="${MODULE}@${VERSION} ${MODULE_SUM} ${CRDS[*]}"
if [[ -f "${OUT_DIR}/VERSION" && "$(cat "${OUT_DIR}/VERSION")" == "${want}" ]]; then
  missing=0
  for crd in "${CRDS[@]}"; do [[ -s "${OUT_DIR}/${crd}" ]] || missing=1; done
  if [[ ${missing} -eq 0 ]]; then
    log "up to date (${VERSION}) at ${OUT_DIR}"
    echo "${OUT_DIR}"
    exit 0
  fi
fi

command -v go >/dev/null 2>&1 || die "go is not on PATH (needed to download ${MODULE})"

# Outside any module, so the repository's go.mod files play no part. Checksums are verified by the go command
# against the checksum database as usual, and against the pinned hash below.
work="$(mktemp -d)"
trap 'rm -rf "${work}"' EXIT
log "downloading ${MODULE}@${VERSION} ..."
json="$(cd "${work}" && GOFLAGS=-mod=mod GO111MODULE=on go mod download -json "${MODULE}@${VERSION}")" \
  || die "go mod download ${MODULE}@${VERSION} failed"

field() { printf '%s\n' "${json}" | sed -n "s/^[[:space:]]*\"$1\": \"\\(.*\\)\",\{0,1\}$/\\1/p" | head -n 1; }
dir="$(field Dir)"
sum="$(field Sum)"
[[ -n "${dir}" && -d "${dir}" ]] || die "go mod download printed no module directory:\n${json}"
[[ "${sum}" == "${MODULE_SUM}" ]] || die "module hash ${sum} differs from the pinned ${MODULE_SUM}"

src="${dir}/example/prometheus-operator-crd"
mkdir -p "${OUT_DIR}"
for crd in "${CRDS[@]}"; do
  [[ -s "${src}/${crd}" ]] || die "${src}/${crd} is missing from the module"
  cp -f "${src}/${crd}" "${OUT_DIR}/${crd}.tmp"
  chmod 0644 "${OUT_DIR}/${crd}.tmp"
  mv -f "${OUT_DIR}/${crd}.tmp" "${OUT_DIR}/${crd}"
done
echo "${want}" >"${OUT_DIR}/VERSION"
log "installed ${#CRDS[@]} CRDs (${VERSION}) in ${OUT_DIR}"
echo "${OUT_DIR}"
