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
