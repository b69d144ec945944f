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

# free_ports N [HOST]: N distinct free TCP ports on HOST (default 127.0.0.1), held open together
# while choosing so they differ.
free_ports() {
  python3 - "$1" "${2:-127.0.0.1}" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind((sys.argv[2], 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}

# port_is_free PORT [HOST]
port_is_free() {
  python3 -c 'import socket,sys; s=socket.socket(); s.bind((sys.argv[2], int(sys.argv[1])))' \
    "$1" "${2:-127.0.0.1}" 2>/dev/null
}
