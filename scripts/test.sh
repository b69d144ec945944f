#!/usr/bin/env bash
# The README's test command: installs what is missing, checks formatting, builds with ASan + UBSan
# and runs every unit and integration test (the integration tests start and stop a real broker).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/bootstrap.sh"
"$root/scripts/format.sh" --check
"$root/scripts/build.sh" asan

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# Tests start their own broker; an EBB_BOOTSTRAP_SERVERS from the caller's shell is used if set.
ctest --test-dir "$root/build/asan" --output-on-failure --timeout 900 "$@"
