#!/usr/bin/env bash
# The README's test command: installs what is missing, checks formatting, then runs two builds:
#   1. ASan + UBSan (build/asan): every unit, integration, robustness, fuzz and deploy test (the
#      integration tests start and stop a real broker);
#   2. ThreadSanitizer (build/tsan): the unit tests and the consumer, producer and scale integration
#      tests, whose `ebb` children are TSan-built too.
# test.sh --asan | --tsan runs one stage only; further arguments go to ctest (e.g. -R lag -L unit).
# test.sh --k8s runs the Kubernetes tier alone (CTest label k8s, in build/asan): a cluster built from
# Kubernetes' and KEDA's own code, the image from deploy/docker/Dockerfile (`make test-k8s`; the
# stages above leave it out: its first build takes longer than the rest of `make test`).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

stages=(asan tsan)
labels=(-LE k8s)
case "${1:-}" in
  --asan) stages=(asan) && shift ;;
  --tsan) stages=(tsan) && shift ;;
  --k8s) stages=(asan) && labels=(-L k8s) && shift ;;
esac

"$root/scripts/bootstrap.sh"
"$root/scripts/format.sh" --check

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# librdkafka is not TSan-built: its own internals are out of scope (tests/tsan.supp says what is
# suppressed and why); any report in ebb's code fails the test that triggered it.
export TSAN_OPTIONS="${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1:suppressions=$root/tests/tsan.supp}"
for stage in "${stages[@]}"; do
  "$root/scripts/build.sh" "$stage"
  # The sanitizer must really be in the binaries the tests run (and in the ebb children they start).
  ldd "$root/build/$stage/apps/ebb/ebb" | grep -q "lib$stage.so" ||
    die "build/$stage/apps/ebb/ebb is not linked with lib$stage.so: the $stage stage checks nothing"
  log "running the $stage tests"
  # Tests start their own broker; an EBB_BOOTSTRAP_SERVERS from the caller's shell is used if set.
  ctest --test-dir "$root/build/$stage" --output-on-failure --timeout 900 "${labels[@]}" "$@"
done
