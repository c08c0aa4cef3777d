# kconmon tcp-tweaks: applies each NAME=VALUE argument as a sysctl in this pod's network namespace (POSIX sh,
# busybox-compatible). A sysctl the kernel lacks, that is read-only here, or that the kernel refuses is logged and
# skipped: this script always exits 0, so an unusual kernel never keeps the agent from starting.
root="${SYSCTL_ROOT:-/proc/sys}"
applied=0
skipped=0
for pair in "$@"; do
  name="${pair%%=*}"
  value="${pair#*=}"
  case "$name" in
    "" | .* | *. | *..* | /* | */ | *[!A-Za-z0-9_./-]*)
      echo "tcp-tweaks: skipped \"$pair\": not a sysctl name"
      skipped=$((skipped + 1))
      continue
      ;;
  esac
  path="$root/$(printf '%s' "$name" | tr . /)"
  if [ ! -e "$path" ]; then
    echo "tcp-tweaks: skipped $name: not available on this kernel ($path missing)"
    skipped=$((skipped + 1))
  elif [ ! -w "$path" ]; then
    echo "tcp-tweaks: skipped $name: not writable here (read-only /proc/sys? the init container needs privileged: true)"
    skipped=$((skipped + 1))
  elif printf '%s\n' "$value" 2>/dev/null >"$path"; then
    echo "tcp-tweaks: set $name = $value"
    applied=$((applied + 1))
  else
    echo "tcp-tweaks: skipped $name: the kernel refused the value $value"
    skipped=$((skipped + 1))
  fi
done
echo "tcp-tweaks: $applied applied, $skipped skipped"
exit 0
