#!/usr/bin/env bash
# The chart on a real Kubernetes cluster (tools/k8s/cluster.sh: Kubernetes v1.35.4 and KEDA v2.20.2
# built from their own code, containerd + runc) with the ebb image built from
# deploy/docker/Dockerfile, against the project's broker on the cluster's node address:
#   1. helm install of deploy/helm/ebb in every scaling mode: the pods become ready, the lag
#      exporter and the metrics Service answer through the API server, helm uninstall leaves
#      nothing;
#   2. keda-kafka: KEDA's own Kafka scaler and the real HPA scale the consumer Deployment out under
#      a spike from `ebb produce` and back in after the drain; the pods' audit loses nothing; the
#      lag, recorded once a second meanwhile, replayed through ebb's `keda` policy (ebb_keda_replay)
#      gives the trajectory the model predicts, written beside the real one
#      (ARTIFACTS/k8s-keda-*.tsv) and held to within one sync period and ±1 replica of it;
#   3. the helmfile: its local releases templated for both environments, the dev ebb release
#      synced to the cluster and destroyed.
# Exit 77 (skipped) when this machine cannot run a kubelet, saying why.
#
#   k8s_test.sh EBB_BINARY [ARTIFACTS_DIR] [EBB_KEDA_REPLAY]
set -uo pipefail

ebb="$1"
artifacts="${2:-$(pwd)/test-artifacts}"
replay="${3:-$(dirname "$ebb")/../../tests/ebb_keda_replay}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=tests/integration/check.sh
source "$root/tests/integration/check.sh"
# shellcheck source=tests/k8s/lib.sh
source "$root/tests/k8s/lib.sh"

if ! why="$("$cluster" check)"; then
  echo "SKIPPED: $why"
  exit 77
fi

work="$(mktemp -d)"
chmod 755 "$work"
cleanup() {
  [ -n "${lag_recorder_pid:-}" ] && kill "$lag_recorder_pid" 2>/dev/null
  "$cluster" stop --dir "$work/k8s" >/dev/null 2>&1
  "$root/tools/kafka/kafka.sh" stop --dir "$work/kafka" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$artifacts"

test_failed_start_leaves_nothing
start_everything || exit 1
test_second_cluster_refused
test_install_every_mode
test_keda_kafka_scales
test_helmfile
check "nothing of the cluster is left after stop" stop_and_check_nothing_left
finish
