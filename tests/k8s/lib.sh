# The steps of tests/k8s/k8s_test.sh. Sourced; the test sets ebb, root, work, artifacts and sources
# tests/integration/check.sh first.

# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
cluster="$root/tools/k8s/cluster.sh"
kafka="$root/tools/kafka/kafka.sh"
chart="$root/deploy/helm/ebb"
topic="orders"
partitions=8

log() { printf '[k8s-test] %s\n' "$*" >&2; }
kubectl_() { "$EBB_CACHE_K8S/bin/kubectl" "$@"; }

# Builds what is missing, starts the cluster and a broker its pods reach, creates the topic.
start_everything() {
  EBB_CACHE_K8S="${EBB_CACHE:-$root/.cache}/k8s"
  local started=$SECONDS
  helm="$("$root/scripts/check-deploy.sh" --print-helm)" || { echo "FAILED: building helm"; return 1; }
  "$root/tools/k8s/build.sh" || { echo "FAILED: building the cluster's components and images"; return 1; }
  log "components and images ready after $((SECONDS - started)) s"
  started=$SECONDS
  "$cluster" start --dir "$work/k8s" --owner-pid $$ >/dev/null || { echo "FAILED: starting the cluster"; return 1; }
  log "cluster started in $((SECONDS - started)) s"
  set -a
  # shellcheck disable=SC1091
  source "$work/k8s/env"
  set +a
  bootstrap="$("$kafka" start --dir "$work/kafka" --host "$EBB_K8S_NODE_IP" --owner-pid $$)" ||
    { echo "FAILED: starting the broker on $EBB_K8S_NODE_IP"; return 1; }
  "$kafka" run-class org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create \
    --topic "$topic" --partitions "$partitions" >"$work/topic.log" 2>&1 ||
    { echo "FAILED: creating $topic"; cat "$work/topic.log"; return 1; }
  check "the node is Ready" node_ready
}

node_ready() {
  [ "$(kubectl_ get node "$EBB_K8S_NODE_NAME" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

# install RELEASE NAMESPACE MODE [HELM_ARGS...]: helm install ... --wait with the broker's address.
install() {
  local release="$1" namespace="$2" mode="$3"
  shift 3
  "$helm" install "$release" "$chart" --namespace "$namespace" --create-namespace --wait \
    --timeout 180s --set "kafka.bootstrapServers=$bootstrap" --set "kafka.topic=$topic" \
    --set "consumer.group=$release" --set "scaling.mode=$mode" "$@" >"$work/helm-$release.log" 2>&1 ||
    { tail -n 20 "$work/helm-$release.log"; kubectl_ -n "$namespace" get pods -o wide; return 1; }
}

# Every pod of the namespace is Ready (and there is at least one).
all_pods_ready() {
  local statuses
  statuses="$(kubectl_ -n "$1" get pods -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}')"
  [ -n "$statuses" ] && ! grep -qv '^True$' <<<"$statuses"
}

# answers NAMESPACE PATH PATTERN: the API server's proxy to a Service or pod returns PATTERN.
answers() {
  kubectl_ get --raw "/api/v1/namespaces/$1/$2" 2>"$work/proxy.err" | grep -q -- "$3"
}

# Nothing of the release is left in the namespace but what Kubernetes puts in every namespace.
nothing_left() {
  kubectl_ -n "$1" get all,pdb,hpa,scaledobjects.keda.sh,triggerauthentications.keda.sh,secrets,configmaps,serviceaccounts,endpointslices \
    -o name >"$work/left.txt" 2>&1
  ! grep -q -v -E '^(configmap/kube-root-ca.crt|serviceaccount/default)$' "$work/left.txt"
}

# Within 90 s (the pods go after the uninstall: their ReplicaSets' garbage collection, then the
# drain); names what is left if not.
release_gone() {
  wait_for 90 nothing_left "$1" && return 0
  grep -v -E '^(configmap/kube-root-ca.crt|serviceaccount/default)$' "$work/left.txt"
  return 1
}

# keda-ebb: ebb's static policy behind KEDA's external trigger, so the count KEDA must reach is known.
write_keda_ebb_values() {
  cat >"$work/keda-ebb-values.yaml" <<EOF
scaling:
  kedaEbb:
    policy: static
    settings: {objective: null, service-rate: null, replicas: "3"}
EOF
}

ready_replicas_are() {  # NAMESPACE DEPLOYMENT COUNT
  [ "$(kubectl_ -n "$1" get "deployment/$2" -o jsonpath='{.status.readyReplicas}')" = "$3" ]
}

modes=(keda-kafka keda-ebb hpa none)

# Each mode in a namespace of its own, all four installed at once (helm install --wait).
install_every_mode() {
  write_keda_ebb_values
  local mode
  local -a values pids=()
  for mode in "${modes[@]}"; do
    values=()
    [ "$mode" = keda-ebb ] && values=(-f "$work/keda-ebb-values.yaml")
    install "m-$mode" "install-$mode" "$mode" "${values[@]}" >"$work/install-$mode.out" 2>&1 &
    pids+=($!)
  done
  local i
  for i in "${!modes[@]}"; do
    wait "${pids[$i]}"
    echo $? >"$work/install-${modes[$i]}.rc"
  done
}

installed() {  # MODE
  [ "$(cat "$work/install-$1.rc")" = 0 ] || { cat "$work/install-$1.out"; return 1; }
}

# component NAMESPACE KIND COMPONENT: the name of the release's object (the chart's fullname drops
# the chart's name when the release's name holds it).
component() {
  kubectl_ -n "$1" get "$2" -l "app.kubernetes.io/component=$3" -o jsonpath='{.items[0].metadata.name}'
}

check_installed_mode() {  # MODE
  local mode="$1" release="m-$1" namespace="install-$1" pod
  check "$mode: helm install --wait" installed "$mode"
  check "$mode: every pod is Ready" all_pods_ready "$namespace"
  if [ "$mode" = keda-ebb ]; then
    check "keda-ebb: KEDA asks ebb scale --serve-keda in the cluster and the Deployment follows its policy (3 ready)" \
      wait_for 120 ready_replicas_are "$namespace" "$(component "$namespace" deployment consumer)" 3
  fi
  check "$mode: the metrics Service answers" answers "$namespace" \
    "services/$(component "$namespace" service metrics):http-metrics/proxy/metrics" '^# TYPE ebb_'
  pod="$(component "$namespace" pod lag-exporter)"
  check "$mode: the lag exporter serves the group's lag" \
    answers "$namespace" "pods/$pod:9308/proxy/metrics" "ebb_group_lag_messages{.*group=\"$release\""
}

test_install_every_mode() {
  install_every_mode
  local mode
  for mode in "${modes[@]}"; do check_installed_mode "$mode"; done
  for mode in "${modes[@]}"; do
    check "$mode: helm uninstall --wait" "$helm" uninstall "m-$mode" --namespace "install-$mode" --wait
  done
  for mode in "${modes[@]}"; do
    check "$mode: nothing of the release is left" release_gone "install-$mode"
    kubectl_ delete namespace "install-$mode" --wait=false >/dev/null
  done
}

# ---- keda-kafka under a spike: the real KEDA + HPA against ebb's keda policy ---------------------

spike_release="spike"
spike_namespace="spike"
spike_rate="${EBB_K8S_SPIKE_RATE:-3000}"
spike_count="${EBB_K8S_SPIKE_COUNT:-180000}"
lag_threshold=500
polling_interval=5
scale_down_window=30
max_replicas=8

# The chart's values for the spike: KEDA polls every 5 s, the HPA waits 30 s before scaling in,
# and every consumer appends its audit to a file of its own on this machine (a hostPath volume:
# the files outlive the pods that scaling in deletes).
write_spike_values() {
  mkdir -p "$work/audit"
  chmod 1777 "$work/audit"
  cat >"$work/spike-values.yaml" <<EOF
scaling:
  mode: keda-kafka
  minReplicas: 1
  maxReplicas: $max_replicas
  keda:
    pollingInterval: $polling_interval
    behavior:
      scaleDown:
        stabilizationWindowSeconds: $scale_down_window
  kedaKafka:
    lagThreshold: $lag_threshold
consumer:
  work: "sleep:1ms"
extraVolumes:
  - name: audit
    hostPath: {path: $work/audit, type: Directory}
extraVolumeMounts:
  - name: audit
    mountPath: /audit
extraEnv:
  - name: POD_NAME
    valueFrom: {fieldRef: {fieldPath: metadata.name}}
  - name: EBB_AUDIT
    value: /audit/\$(POD_NAME).audit
EOF
}

# The lag as the policy sees it, recorded once a second beside the real KEDA + HPA: `ebb scale` with
# the static policy at a 1 s interval, which reads the group's offsets from the same broker and
# counts the group's members; --serve-keda runs no replicas (nothing calls it). ebb_keda_replay then
# runs the keda policy over these readings with the ScaledObject's settings.
start_lag_recorder() {
  local port
  port="$(free_ports 1)"
  "$ebb" scale -b "$bootstrap" -t "$topic" -g "$spike_release" --policy static \
    --set replicas=1 --set interval=1s --serve-keda "127.0.0.1:$port" \
    --decisions "$work/recorded.jsonl" >"$work/recorder.log" 2>&1 &
  lag_recorder_pid=$!
}

# The keda policy's settings: the spike's ScaledObject and KEDA's and the HPA's defaults.
keda_settings=()
set_keda_settings() {
  keda_settings=("lagThreshold=$lag_threshold" "pollingInterval=${polling_interval}s"
    minReplicaCount=1 "maxReplicaCount=$max_replicas" "scaleDownStabilization=${scale_down_window}s")
}

# The real HPA's first scale event happened at one of its syncs, between the last reading of the
# Deployment's first replica count and the first reading of another: the replay syncs just after
# that last reading, and every 15 s from it (what it reads at a sync is what was there before).
first_sync_time() {
  awk 'NF >= 2 && $2 ~ /^[0-9]+$/ { if (first == "") first = $2; else if ($2 != first) { printf "%.2f\n", last + 0.01; exit }; last = $1 }' \
    "$work/real.txt"
}

# Two replays of ebb's keda policy at the real HPA's sync times: over the lag the recorder read from
# the broker (model-broker.jsonl), and over exactly what KEDA's scaler served the HPA at each sync
# (the HPA's status: model.jsonl), where any difference left is the model's.
replay_model() {
  local first_sync
  first_sync="$(first_sync_time)"
  [ -n "$first_sync" ] || { echo "the real HPA never scaled"; return 1; }
  set_keda_settings
  "$replay" "$work/recorded.jsonl" "$first_sync" "${keda_settings[@]}" >"$work/model-broker.jsonl" &&
    python3 "$root/tests/k8s/keda_readings.py" "$work/real.txt" "$first_sync" 15 "$partitions" \
      >"$work/readings.jsonl" &&
    "$replay" "$work/readings.jsonl" "$first_sync" "${keda_settings[@]}" >"$work/model.jsonl"
}

# Once a second: the Deployment's replicas (spec, ready) and the HPA's desired count and metric.
record_real() {
  local deploy="$spike_release-ebb-consumer"
  while :; do
    printf '%s ' "$(date +%s.%N)"
    kubectl_ -n "$spike_namespace" get "deployment/$deploy" "hpa/keda-hpa-$deploy" -o jsonpath='{range .items[*]}{.spec.replicas} {.status.readyReplicas} {.status.desiredReplicas} {.status.currentMetrics[0].external.current.averageValue} {end}{"\n"}' 2>/dev/null || echo
    sleep 1
  done >"$work/real.txt"
}

deployment_replicas() {
  kubectl_ -n "$spike_namespace" get "deployment/$spike_release-ebb-consumer" -o jsonpath='{.spec.replicas}'
}

# wait_for SECONDS COMMAND...: polls every second.
wait_for() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 1
  done
}

replicas_exactly() { [ "$(deployment_replicas)" = "$1" ]; }
group_drained() {
  "$ebb" lag -b "$bootstrap" -g "$spike_release" -t "$topic" -o json 2>/dev/null |
    python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["lag"] == 0 else 1)'
}

nothing_lost() {
  "$ebb" verify --audit "$work"/audit/*.audit --expect "spike=$spike_count" -o json \
    >"$work/verify.json" 2>"$work/verify.log"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print("verify:", r); sys.exit(0 if r["lost"] == 0 else 1)' "$work/verify.json"
}

# Runs the spike; leaves real.txt, model.jsonl and verify.json in $work.
run_keda_spike() {
  write_spike_values
  check "keda-kafka: helm install with the spike's values" \
    install "$spike_release" "$spike_namespace" keda-kafka -f "$work/spike-values.yaml"
  check "keda-kafka: KEDA made the HPA" wait_for 60 kubectl_ -n "$spike_namespace" get \
    "hpa/keda-hpa-$spike_release-ebb-consumer"
  start_lag_recorder
  record_real &
  local real_recorder=$!
  local started=$SECONDS
  "$ebb" produce -b "$bootstrap" -t "$topic" --producer-id spike --keys uniform:1000 \
    --rate "$spike_rate" -n "$spike_count" -o json >"$work/produce.json" 2>"$work/produce.log"
  check "keda-kafka: ebb produce sent the spike ($spike_count at $spike_rate/s)" test $? -eq 0
  check "keda-kafka: the group drained" wait_for 300 group_drained
  check "keda-kafka: scaled back in to 1 after the drain" wait_for 240 replicas_exactly 1
  log "spike: out and back in within $((SECONDS - started)) s"
  sleep "$polling_interval"
  kill "$real_recorder" "$lag_recorder_pid" 2>/dev/null
  wait "$real_recorder" "$lag_recorder_pid" 2>/dev/null
  lag_recorder_pid=""
  check "keda-kafka: helm uninstall --wait (consumers drain and commit)" \
    "$helm" uninstall "$spike_release" --namespace "$spike_namespace" --wait
  check "keda-kafka: the pods' audit loses nothing" nothing_lost
}

real_peak_at_least() {
  python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["real_peak"] >= int(sys.argv[2]) else 1)' \
    "$work/compare.json" "$1"
}

test_keda_kafka_scales() {
  run_keda_spike
  check "keda-kafka: ebb's keda policy replayed at the real HPA's syncs" replay_model
  python3 "$root/tests/k8s/compare_trajectories.py" "$work/real.txt" "$work/model-broker.jsonl" \
    "$work/recorded.jsonl" "$artifacts" --model-name model-broker >"$work/compare-broker.json"
  python3 "$root/tests/k8s/compare_trajectories.py" "$work/real.txt" "$work/model.jsonl" \
    "$work/recorded.jsonl" "$artifacts" >"$work/compare.json"
  local agreed=$?
  cat "$work/compare.json" "$work/compare-broker.json"
  check "keda-kafka: the real HPA scaled the consumers out (peak >= 4 of $max_replicas)" real_peak_at_least 4
  check "keda-kafka: fed KEDA's readings, the keda policy's trajectory is within one sync period and ±1 replica of the real one" \
    test "$agreed" -eq 0
  cp "$work/compare.json" "$artifacts/k8s-keda-compare.json"
  cp "$work/compare-broker.json" "$artifacts/k8s-keda-compare-broker.json"
  cp "$work/verify.json" "$artifacts/k8s-keda-verify.json" 2>/dev/null
}

# ---- the helmfile: its releases that need no remote chart ------------------------------------------

helmfile_() {
  HOME="$work/home" PATH="$(dirname "$helm"):$PATH" "$EBB_CACHE_K8S/bin/helmfile" \
    -f "$root/deploy/helmfile.yaml" "$@"
}

helmfile_renders() {  # ENV: the Kafka cluster's and ebb's objects come out
  local out="$work/helmfile-$1.yaml"
  helmfile_ -e "$1" template -l name=kafka -l name=ebb --skip-deps >"$out" 2>&1 || { tail "$out"; return 1; }
  grep -q '^kind: ScaledObject$' "$out" && grep -q '^kind: Kafka$' "$out"
}

# helmfile renders the local charts for both environments (Strimzi's and KEDA's charts are remote:
# --skip-deps, and the selectors leave them out), then syncs the dev environment's ebb release to the
# cluster, pointed at this broker, and destroys it.
test_helmfile() {
  mkdir -p "$work/home"
  local env
  for env in dev prod; do
    check "helmfile -e $env template of the kafka and ebb releases" helmfile_renders "$env"
  done
  "$kafka" run-class org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create \
    --topic helmfile-orders --partitions 4 >>"$work/topic.log" 2>&1
  check "helmfile -e dev sync of the ebb release (its producer and KEDA trigger on this broker)" \
    helmfile_ -e dev sync -l name=ebb --skip-deps --set "kafka.bootstrapServers=$bootstrap" \
    --set kafka.topic=helmfile-orders
  check "helmfile: every pod of the ebb release is Ready" all_pods_ready ebb
  check "helmfile: KEDA made the HPA for the dev release" \
    wait_for 60 kubectl_ -n ebb get hpa/keda-hpa-ebb-consumer
  check "helmfile destroy of the ebb release" helmfile_ -e dev destroy -l name=ebb --skip-deps
  check "helmfile: nothing of the release is left" release_gone ebb
}

# cluster.sh stop leaves no process, mount, interface, network namespace or iptables chain behind.
stop_and_check_nothing_left() {
  "$cluster" stop --dir "$work/k8s" >"$work/stop.log" 2>&1 || { cat "$work/stop.log"; return 1; }
  nothing_running "$work/k8s"
}

# ---- failure paths ----------------------------------------------------------------------------------

# The start of a cluster that fails: the component is named with its log's last lines, and what did
# start is stopped.
test_failed_start_leaves_nothing() {
  EBB_K8S_START_TIMEOUT=1 "$cluster" start --dir "$work/failed" >"$work/failed.out" 2>&1
  local code=$?
  check "a component that does not come up in time fails the start" test "$code" -ne 0
  check "the failure names the component and shows its log's last lines" \
    grep -qE 'error: (etcd|kube-apiserver): not (serving|ready) within 1 s' "$work/failed.out"
  check "the failure shows the component's log tail" grep -q -- '---- last lines of' "$work/failed.out"
  check "nothing of the failed start is left" nothing_running "$work/failed"
  check "cluster.sh check says why an unprivileged user cannot run it (exit 3)" unprivileged_check
  check "an unknown option is a clear error" rejects_unknown_option
}

# No process, mount, interface, network namespace or iptables chain of the cluster in DIR.
nothing_running() {
  local dir="$1" left=0
  pgrep -af -- "$dir/" && left=1
  grep -F " $dir/" /proc/self/mounts && left=1
  ip link show ebb-k8s0 2>/dev/null && left=1
  ip netns list 2>/dev/null | grep -E '^cni-' && left=1
  iptables -t nat -S 2>/dev/null | grep -E 'KUBE-' && left=1
  [ "$left" -eq 0 ]
}

rejects_unknown_option() {
  local out
  out="$("$cluster" start --bogus 2>&1)" && return 1
  grep -q 'unknown option for start: --bogus' <<<"$out"
}

unprivileged_check() {
  local out code
  out="$(setpriv --reuid=65534 --regid=65534 --clear-groups "$cluster" check 2>&1)"
  code=$?
  [ "$code" -eq 3 ] && grep -q 'not root' <<<"$out" || { echo "exit $code: $out"; return 1; }
}

# A second cluster while one runs: refused before it starts anything, and the first still serves.
test_second_cluster_refused() {
  "$cluster" start --dir "$work/second" >"$work/second.out" 2>&1
  check "a second cluster beside a running one is refused" test $? -ne 0
  check "the refusal says why (the bridge exists)" grep -q 'interface ebb-k8s0 exists' "$work/second.out"
  check "the first cluster still serves" node_ready
}
