# Shared shell helpers for ebb's scripts. Source it; do not run it.

# Where downloads and builds are cached across runs (gitignored).
EBB_CACHE="${EBB_CACHE:-$root/.cache}"

log() { printf '[ebb] %s\n' "$*" >&2; }
die() {
  printf '[ebb] error: %s\n' "$*" >&2
  exit 1
}
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 is not installed; $2"
}

# For bench/ scripts: installs what is missing and builds the release binary; sets ebb (the
# binary), kafka (tools/kafka/kafka.sh) and report (OUTPUT.md, default docs/BENCHMARKS.md).
bench_setup() {  # [OUTPUT.md]
  "$root/scripts/bootstrap.sh"
  "$root/scripts/build.sh" release
  ebb="$root/build/release/apps/ebb/ebb"
  kafka="$root/tools/kafka/kafka.sh"
  report="${1:-$root/docs/BENCHMARKS.md}"
}
