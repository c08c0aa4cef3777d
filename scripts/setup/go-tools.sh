#!/usr/bin/env bash
# Builds the pinned Go tools used by the real-Kubernetes test suites
# (kube-apiserver, etcd, helm; for the real-node suite also kubelet,
# kube-controller-manager, kube-scheduler, kube-proxy, CoreDNS and a Prometheus
# with Kubernetes service discovery, which Debian's lacks) from the Go
# module proxy, via the consumer modules in tools/*/go.mod (go.sum committed,
# so builds are reproducible).
#
# Idempotent and cached: a binary whose version stamp matches is skipped.
#
# Usage: scripts/setup/go-tools.sh [tool ...]   (no arguments = all tools)
#   tools: etcd kube-apiserver helm kubelet kube-controller-manager
#          kube-scheduler kube-proxy coredns prometheus
# Env:   KCONMON_GO_NICE=N runs the builds under `nice -n N` (shared machines).
# Env:   KCONMON_TOOLS_DIR  (default: $HOME/.cache/kconmon/tools); binaries go
#        to $KCONMON_TOOLS_DIR/bin, each with a "<name>.version" stamp file.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
TOOLS_DIR="${KCONMON_TOOLS_DIR:-${HOME}/.cache/kconmon/tools}"
BIN_DIR="${TOOLS_DIR}/bin"

# Pinned versions. Keep in step with tools/<dir>/go.mod (the stamp also hashes
# go.mod and go.sum, so editing either triggers a rebuild).
K8S_VERSION="v1.36.3"
ETCD_VERSION="v3.6.8"
HELM_VERSION="v3.21.4"
COREDNS_VERSION="v1.15.0"
# Prometheus 3.16.0 (its Go module is versioned v0.316.0).
PROMETHEUS_VERSION="v0.316.0"
ALL_TOOLS=(etcd kube-apiserver helm kubelet kube-controller-manager kube-scheduler kube-proxy coredns prometheus)

log() { printf '[go-tools] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

command -v go >/dev/null 2>&1 || die "go is not on PATH (Go >= 1.26 is needed)"

# tool name -> consumer module dir, main package, pinned version, extra ldflags
tool_dir() {
  case "$1" in
    kube-apiserver | kubelet | kube-controller-manager | kube-scheduler | kube-proxy) echo "${REPO_ROOT}/tools/k8s" ;;
    etcd) echo "${REPO_ROOT}/tools/etcd" ;;
    helm) echo "${REPO_ROOT}/tools/helm" ;;
    coredns) echo "${REPO_ROOT}/tools/coredns" ;;
    prometheus) echo "${REPO_ROOT}/tools/prometheus" ;;
    *) die "unknown tool: $1 (known: ${ALL_TOOLS[*]})" ;;
  esac
}
tool_pkg() {
  case "$1" in
    kube-apiserver | kubelet | kube-controller-manager | kube-scheduler | kube-proxy) echo "k8s.io/kubernetes/cmd/$1" ;;
    etcd) echo "go.etcd.io/etcd/server/v3" ;;
    helm) echo "helm.sh/helm/v3/cmd/helm" ;;
    coredns) echo "github.com/coredns/coredns" ;;
    prometheus) echo "github.com/prometheus/prometheus/cmd/prometheus" ;;
  esac
}
tool_version() {
  case "$1" in
    kube-apiserver | kubelet | kube-controller-manager | kube-scheduler | kube-proxy) echo "${K8S_VERSION}" ;;
    etcd) echo "${ETCD_VERSION}" ;;
    helm) echo "${HELM_VERSION}" ;;
    coredns) echo "${COREDNS_VERSION}" ;;
    prometheus) echo "${PROMETHEUS_VERSION}" ;;
  esac
}
# Go build tags: Prometheus with Kubernetes service discovery only (no cloud SDKs).
tool_tags() {
  case "$1" in
    prometheus) echo "remove_all_sd,enable_kubernetes_sd" ;;
    *) echo "" ;;
  esac
}
tool_ldflags() {
  local v
  v="$(tool_version "$1")"
  case "$1" in
    kube-apiserver | kubelet | kube-controller-manager | kube-scheduler | kube-proxy)
      local minor="${v#v1.}"
      minor="${minor%%.*}"
      echo "-X k8s.io/component-base/version.gitVersion=${v}" \
        "-X k8s.io/component-base/version.gitMajor=1" \
        "-X k8s.io/component-base/version.gitMinor=${minor}" \
        "-X k8s.io/component-base/version.gitTreeState=clean"
      ;;
    etcd | coredns) echo "" ;;
    prometheus)
      local minor="${v#v0.}"
      minor="${minor%%.*}"
      echo "-X github.com/prometheus/common/version.Version=3.$((10#${minor} - 300)).${v##*.}"
      ;;
    helm)
      echo "-X helm.sh/helm/v3/internal/version.version=${v}"
      ;;
  esac
}
# Command printing the built binary's own version, as a smoke test.
tool_version_cmd() {
  case "$1" in
    kube-apiserver | kubelet | kube-controller-manager | kube-scheduler | kube-proxy) echo "--version" ;;
    etcd) echo "--version" ;;
    helm) echo "version --short" ;;
    coredns) echo "-version" ;;
    prometheus) echo "--version" ;;
  esac
}

stamp_for() {
  local name="$1" dir
  dir="$(tool_dir "${name}")"
  grep -q "$(tool_version "${name}")" "${dir}/go.mod" \
    || die "${dir}/go.mod does not pin $(tool_version "${name}") (update both together)"
  local hash
  hash="$(cat "${dir}/go.mod" "${dir}/go.sum" | sha256sum | cut -c1-16)"
  echo "${name} $(tool_version "${name}") mod:${hash}"
}

build_tool() {
  local name="$1"
  local dir pkg out stamp_file want have
  dir="$(tool_dir "${name}")"
  pkg="$(tool_pkg "${name}")"
  out="${BIN_DIR}/${name}"
  stamp_file="${BIN_DIR}/${name}.version"
  want="$(stamp_for "${name}")"
  have=""
  [[ -f "${stamp_file}" ]] && have="$(cat "${stamp_file}")"

  if [[ -x "${out}" && "${have}" == "${want}" ]]; then
    log "${name}: up to date (${want}) at ${out}"
    return 0
  fi

  log "${name}: building ${pkg} ($(tool_version "${name}")) from ${dir} ..."
  local start end
  start="$(date +%s)"
  rm -f "${out}.tmp"
  (
    cd "${dir}"
    GOFLAGS="-trimpath -mod=readonly -buildvcs=false" CGO_ENABLED=0 \
      nice -n "${KCONMON_GO_NICE:-0}" go build -tags="$(tool_tags "${name}")" -ldflags="-s -w $(tool_ldflags "${name}")" -o "${out}.tmp" "${pkg}"
  ) || die "${name}: go build failed"
  # shellcheck disable=SC2046
  "${out}.tmp" $(tool_version_cmd "${name}") >/dev/null 2>&1 \
    || die "${name}: built binary does not run '$(tool_version_cmd "${name}")'"
  mv -f "${out}.tmp" "${out}"
  echo "${want}" >"${stamp_file}"
  end="$(date +%s)"
  log "${name}: built in $((end - start))s -> ${out}"
}

main() {
  local tools=("$@")
  if [[ ${#tools[@]} -eq 0 ]]; then
    tools=("${ALL_TOOLS[@]}")
  fi
  mkdir -p "${BIN_DIR}"
  log "go: $(go env GOVERSION); tools dir: ${TOOLS_DIR}"
  local t
  for t in "${tools[@]}"; do
    tool_dir "${t}" >/dev/null
    build_tool "${t}"
  done
  for t in "${tools[@]}"; do
    # shellcheck disable=SC2046
    log "${t}: $("${BIN_DIR}/${t}" $(tool_version_cmd "${t}") 2>&1 | head -n 1)"
  done
  echo "${TOOLS_DIR}"
}

main "$@"
