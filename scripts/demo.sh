#!/usr/bin/env bash
# The README's demo command: installs what is missing, builds ebb (release) and runs `ebb demo`:
# a local KRaft broker (or EBB_BOOTSTRAP_SERVERS), a producer with a load spike, consumer replicas
# scaled by the slo policy, shown live, verified (nothing lost) and written up as an HTML report
# under out/. Arguments go to `ebb demo` (`scripts/demo.sh --compare slo,keda`; `make demo
# DEMO_ARGS="--compare slo,keda"`). Ctrl-C stops it early and still writes the report.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
"$root/scripts/bootstrap.sh"
"$root/scripts/build.sh" release
cd "$root"
exec "$root/build/release/apps/ebb/ebb" demo "$@"
