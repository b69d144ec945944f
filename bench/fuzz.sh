#!/usr/bin/env bash
# Fuzzes every parser of outside input with libFuzzer (tests/fuzz/*_fuzz.cpp, built with clang in
# build/fuzz): --profile and its CSV files, --keys, --set policy settings, -X and -F properties,
# the message envelope, audit lines, the offsets file and KEDA's trigger metadata.
#
#   bench/fuzz.sh [--executions N]   N executions in total, shared by the harnesses (default 10M);
#                                    new inputs that add coverage are merged into tests/fuzz/corpus
#   bench/fuzz.sh --short [SECONDS]  each harness for SECONDS (default 3) from the corpus, nothing
#                                    merged: the run `make test` does
# A crash stops the run with the harness's report and the input (build/fuzz/crash-*); each one found
# becomes a unit-test case.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

mode=long total=10000000 seconds=3
case "${1:-}" in
  --short) mode=short; seconds="${2:-3}" ;;
  --executions) total="$2" ;;
  "") ;;
  *) die "usage: bench/fuzz.sh [--executions N | --short [SECONDS]]" ;;
esac

command -v clang++-14 >/dev/null || die "clang++-14 is missing: scripts/bootstrap.sh installs it"
build="$root/build/fuzz"
cmake -S "$root/tests/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$build.configure.log" 2>&1 || {
  cat "$build.configure.log"
  die "configuring the fuzz build failed"
}
ninja -C "$build" >"$build.log" 2>&1 || {
  tail -n 40 "$build.log"
  die "building the fuzz harnesses failed"
}

# The file-reading harnesses rewrite their input file on every execution: on tmpfs that is 5-10x
# faster than on disk.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then export TMPDIR=/dev/shm; fi

harnesses=(audit envelope keda_metadata keys offsets policy_settings profile properties)
per_harness=$((total / ${#harnesses[@]}))
executed=0
cd "$build"
for harness in "${harnesses[@]}"; do
  corpus="$root/tests/fuzz/corpus/$harness"
  mkdir -p "$corpus"
  work="$build/corpus-$harness"
  rm -rf "$work" && mkdir -p "$work"
  if [ "$mode" = short ]; then
    limit=(-max_total_time="$seconds")
  else
    limit=(-runs="$per_harness")
  fi
  # New inputs go to $work (the committed corpus is only read), -artifact_prefix keeps crashes here.
  if ! "./${harness}_fuzz" "${limit[@]}" -print_final_stats=1 -artifact_prefix="$build/crash-$harness-" \
    "$work" "$corpus" >"$build/$harness.log" 2>&1; then
    tail -n 30 "$build/$harness.log"
    die "$harness: the fuzzer found a crash (input in $build/crash-$harness-*)"
  fi
  runs="$(sed -n 's/^stat::number_of_executed_units: //p' "$build/$harness.log" | tail -n 1)"
  executed=$((executed + ${runs:-0}))
  if [ "$mode" = long ]; then
    # Keep the corpus small: only inputs that add coverage, merged into the committed one.
    "./${harness}_fuzz" -merge=1 "$corpus" "$work" >"$build/$harness.merge.log" 2>&1
  fi
  printf '%-16s %12s executions, 0 crashes, corpus %s inputs\n' "$harness" "${runs:-0}" \
    "$(find "$corpus" -type f | wc -l)"
done
printf 'total            %12s executions, 0 crashes\n' "$executed"
