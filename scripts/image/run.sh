#!/usr/bin/env bash
# Runs the image's entrypoint with the given arguments under runc, the way a kubelet would run it with
# readOnlyRootFilesystem: `runc spec` defaults (read-only root, no new privileges, a minimal capability set, own PID,
# network, IPC, UTS and mount namespaces: loopback only), as the image's user, in its working directory, with its
# environment. No Docker, no registry. Prints the process's output; exits with its status.
#
# Usage: scripts/image/run.sh IMAGE [ARG ...]          e.g. scripts/image/run.sh localhost/kconmon:1.0.0-alpha.0 --version
#        KCONMON_RUN_ENTRYPOINT=0 scripts/image/run.sh IMAGE CMD [ARG ...]    runs CMD instead of the entrypoint
set -euo pipefail

[[ $# -ge 1 ]] || { echo "usage: $0 IMAGE [ARG ...]" >&2; exit 2; }
image="$1"
shift
[[ $(id -u) -eq 0 ]] || { echo "[image-run] needs root (runc, buildah mount)" >&2; exit 1; }

container="$(buildah from --pull=never "${image}")"
bundle="$(mktemp -d)"
id="kconmon-image-run-$$"
cleanup() {
  runc delete --force "${id}" >/dev/null 2>&1 || true
  buildah umount "${container}" >/dev/null 2>&1 || true
  buildah rm "${container}" >/dev/null 2>&1 || true
  rm -rf "${bundle}"
}
trap cleanup EXIT

rootfs="$(buildah mount "${container}")"
buildah inspect --type image "${image}" >"${bundle}/image.json"
(cd "${bundle}" && runc spec)
# Fill the spec from the image's config (user, working directory, environment, entrypoint) and the arguments.
node - "${bundle}" "${rootfs}" "${KCONMON_RUN_ENTRYPOINT:-1}" "$@" <<'EOF'
const fs = require('fs');
const [bundle, rootfs, useEntrypoint, ...args] = process.argv.slice(2);
const image = JSON.parse(fs.readFileSync(`${bundle}/image.json`, 'utf8')).OCIv1.config;
const spec = JSON.parse(fs.readFileSync(`${bundle}/config.json`, 'utf8'));
const [uid, gid] = (image.User || '0:0').split(':').map(Number);
spec.root = { path: rootfs, readonly: true };
spec.process.terminal = false;
spec.process.user = { uid, gid: Number.isNaN(gid) || gid === undefined ? uid : gid };
spec.process.cwd = image.WorkingDir || '/';
spec.process.env = image.Env || ['PATH=/usr/local/bin:/usr/bin:/bin'];
spec.process.args = useEntrypoint === '1' ? [...(image.Entrypoint || []), ...(args.length > 0 ? args : image.Cmd || [])] : args;
spec.hostname = 'kconmon-image-run';
fs.writeFileSync(`${bundle}/config.json`, JSON.stringify(spec, null, 2));
EOF
status=0
runc run --bundle "${bundle}" "${id}" </dev/null || status=$?
exit "${status}"
