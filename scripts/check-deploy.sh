#!/usr/bin/env bash
# Offline checks of everything that ships under deploy/ and compose.k.yml, with the real tools:
#   - helm lint and helm template of both charts for every scaling mode and both environments;
#   - every rendered object, and the Argo CD files, through kubeconform -strict against schemas made
#     here from the real APIs: Kubernetes' OpenAPI v3 documents (k8s.io/kubernetes module) and the
#     KEDA, Prometheus Operator, Argo CD and Strimzi CRDs in ../shared/schemas (skipped, saying so,
#     when that folder is absent); ScaledObject trigger metadata against KEDA's scaler schema;
#   - what the chart promises (no replicas under an autoscaler, drain < termination grace, probes,
#     security context, 128 MiB), that every EBB_* variable and flag exists in the ebb binary, that
#     every value is documented; the helmfile's releases and the Argo CD applications' paths;
#   - compose.k.yml against the compose-spec JSON schema (compose-go module);
#   - promtool check config on deploy/prometheus/prometheus.yml; the Grafana dashboard's PromQL
#     through promtool check rules, and its metric names against the ones ebb declares;
#   - promtool check metrics on the real /metrics of ebb produce, consume and lag against a real
#     broker (tools/kafka/kafka.sh), and the consumer's exit 0 on SIGTERM;
#   - canaries: a broken object, values file, compose file and dashboard must each be rejected.
# What it cannot check here (no Docker engine, no cluster): docker build, docker compose up, a real
# install. docs/DEPLOY.md says so.
#
#   check-deploy.sh [EBB_BINARY]     default build/release/apps/ebb/ebb (built if missing)
#   check-deploy.sh --print-helm     build the tools if missing and print helm's path
#
# Tools are built and fetched once into .cache/deploy-tools (pinned versions below); the first run
# builds helm and kubeconform from their Go modules.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

readonly helm_version="v3.22.0"
readonly kubeconform_version="v0.8.0"
readonly kubernetes_version="1.35.4"          # the k8s.io/kubernetes module: OpenAPI v3 documents
readonly compose_go_version="v2.16.2"          # carries the compose-spec JSON schema
schemas_dir="${EBB_DEPLOY_SCHEMAS:-$root/../shared/schemas}"

tools="$EBB_CACHE/deploy-tools"
python=/usr/bin/python3 # Debian's, with python3-yaml and python3-jsonschema (bootstrap.sh)
checker="$root/scripts/check_deploy.py"
work="$(mktemp -d)"
passed=0
failed=0
children=()

cleanup() {
  local pid
  for pid in "${children[@]}"; do kill "$pid" 2>/dev/null; done
  [ -d "$work/kafka" ] && bash "$root/tools/kafka/kafka.sh" stop --dir "$work/kafka" >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT

# check NAME COMMAND...: the command must succeed; its output is shown when it does not.
check() {
  local name="$1"
  shift
  if "$@" >"$work/out" 2>&1; then
    passed=$((passed + 1))
    echo "ok: $name"
    grep -E '^(pending|SKIPPED):' "$work/out" || true
  else
    failed=$((failed + 1))
    echo "FAILED: $name"
    tail -n 40 "$work/out" | sed 's/^/    /'
  fi
}

# reject NAME PATTERN COMMAND...: a canary; the command must fail, saying PATTERN.
reject() {
  local name="$1" pattern="$2"
  shift 2
  if "$@" >"$work/out" 2>&1; then
    failed=$((failed + 1))
    echo "FAILED: $name (accepted)"
  elif grep -qE -- "$pattern" "$work/out"; then
    passed=$((passed + 1))
    echo "ok: $name"
  else
    failed=$((failed + 1))
    echo "FAILED: $name (rejected, but without /$pattern/)"
    tail -n 20 "$work/out" | sed 's/^/    /'
  fi
}

py() { "$python" "$checker" "$@"; }

# ---- tools -------------------------------------------------------------------------------------

install_tools() {
  need go "install Go 1.26 or newer (helm and kubeconform are built from their Go modules)"
  if ! "$python" -c 'import yaml, jsonschema' 2>/dev/null || ! command -v promtool >/dev/null; then
    log "check-deploy: installing Debian's prometheus (promtool), python3-yaml, python3-jsonschema"
    "$root/scripts/bootstrap.sh" apt || die "scripts/bootstrap.sh apt failed"
  fi
  # The project's own module and build caches (about 1.3 GB once helm is built): a cold run
  # downloads everything, and deleting them again would cost more than keeping them.
  export GOMODCACHE="$tools/gomod" GOCACHE="$tools/gocache" GOFLAGS="-modcacherw" GOTOOLCHAIN=local
  helm="$tools/bin/helm-$helm_version/helm"
  kubeconform="$tools/bin/kubeconform-$kubeconform_version/kubeconform"
  if [ ! -x "$helm" ]; then
    log "check-deploy: building helm $helm_version from its Go module (once; a few minutes)"
    # The version ldflags are the ones helm's own Makefile sets.
    local ldflags="-X helm.sh/helm/v3/internal/version.version=$helm_version"
    local minor
    minor="$(cut -d. -f2 <<<"$kubernetes_version")"
    ldflags+=" -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=$minor"
    GOBIN="$(dirname "$helm")" quietly nice -n 10 go install -ldflags "$ldflags" \
      "helm.sh/helm/v3/cmd/helm@$helm_version" || die "go install helm $helm_version failed"
  fi
  if [ ! -x "$kubeconform" ]; then
    log "check-deploy: building kubeconform $kubeconform_version from its Go module (once)"
    GOBIN="$(dirname "$kubeconform")" quietly nice -n 10 go install \
      -ldflags "-X main.version=$kubeconform_version" \
      "github.com/yannh/kubeconform/cmd/kubeconform@$kubeconform_version" ||
      die "go install kubeconform $kubeconform_version failed"
  fi
  k8s_module="$(module_dir "k8s.io/kubernetes@v$kubernetes_version")" ||
    die "go mod download k8s.io/kubernetes failed"
  compose_module="$(module_dir "github.com/compose-spec/compose-go/v2@$compose_go_version")" ||
    die "go mod download compose-go failed"
}

# quietly COMMAND...: runs it with its output in a log, shown only when it fails.
quietly() {
  "$@" >"$work/quietly.log" 2>&1 || {
    tail -n 30 "$work/quietly.log" >&2
    return 1
  }
}

# module_dir MODULE@VERSION: downloads (once) and prints the module's directory in the module cache.
module_dir() {
  go mod download -json "$1" 2>"$work/download.log" | "$python" -c '
import json, sys
module = json.load(sys.stdin)
print(module["Dir"]) if "Dir" in module else sys.exit(module.get("Error", "no Dir"))'
}

# ---- schemas -----------------------------------------------------------------------------------

crd_kinds="ScaledObject,TriggerAuthentication,ServiceMonitor,Application,ApplicationSet,AppProject"
crd_kinds+=",Kafka,KafkaNodePool,KafkaTopic,KafkaUser"
skip_crds=()

make_schemas() {
  mkdir -p "$work/schemas"
  check "JSON schemas from Kubernetes $kubernetes_version's OpenAPI v3 documents" \
    py k8s-schemas "$k8s_module/api/openapi-spec/v3" "$work/schemas"
  if [ -d "$schemas_dir" ]; then
    check "JSON schemas from the KEDA, Prometheus Operator, Argo CD, Strimzi CRDs in $schemas_dir" \
      py crd-schemas "$work/schemas" "$schemas_dir"/*/*.yaml
  else
    echo "SKIPPED: custom resources ($crd_kinds) and KEDA trigger metadata are not validated:" \
      "$schemas_dir is absent"
    skip_crds=(-skip "$crd_kinds")
  fi
}

kubeconform_strict() {
  local location="$work/schemas/{{ .ResourceKind }}{{ .KindSuffix }}{{ .StrictSuffix }}.json"
  "$kubeconform" -strict -summary -kubernetes-version "$kubernetes_version" "${skip_crds[@]}" \
    -schema-location "$location" "$@"
}

# ---- charts ------------------------------------------------------------------------------------

# Each case: NAME MODE HELM-ARGS... (rendered to $work/render/ebb-NAME.yaml). "everything" turns on
# every optional part at once.
ebb_cases=(
  "keda-kafka keda-kafka"
  "keda-ebb keda-ebb --set scaling.mode=keda-ebb"
  "keda-ebb-share keda-ebb --set scaling.mode=keda-ebb,consumer.groupType=share"
  "hpa-cpu hpa --set scaling.mode=hpa"
  "hpa-external hpa --set scaling.mode=hpa --set scaling.hpa.metric=external"
  "none none --set scaling.mode=none"
  "keda-zero keda-kafka --set scaling.minReplicas=0,scaling.kedaKafka.activationLagThreshold=100"
  "everything keda-kafka --values $work/everything.yaml"
  "secured keda-kafka --values $work/secured.yaml"
  "secured-existing keda-ebb --values $work/secured-existing.yaml"
)

write_everything_values() {
  cat >"$work/everything.yaml" <<'YAML'
kafka:
  properties: {security.protocol: SASL_SSL, sasl.mechanisms: SCRAM-SHA-512}
  propertiesSecret: {name: ebb-kafka}
extraEnv: [{name: TZ, value: UTC}]
consumer:
  groupProtocol: classic
  assignor: cooperative-sticky
  extraArgs: [--commit-interval, "2"]
  podAnnotations: {example.com/team: platform}
  nodeSelector: {kubernetes.io/os: linux}
  tolerations: [{key: dedicated, operator: Equal, value: kafka, effect: NoSchedule}]
  topologySpreadConstraints:
    - {maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: ScheduleAnyway}
  priorityClassName: high
producer: {enabled: true, partitioner: lag-aware}
metrics:
  serviceMonitor: {enabled: true, labels: {release: kube-prometheus-stack}}
imagePullSecrets: [{name: regcred}]
scaling:
  keda:
    behavior:
      scaleDown:
        stabilizationWindowSeconds: 60
        policies: [{type: Percent, value: 50, periodSeconds: 30}]
  kedaKafka:
    authenticationRef: ebb-kafka
    extraMetadata: {sasl: scram_sha512, tls: enable}
YAML
}

# SCRAM over TLS: Secrets the chart creates (password and CA given as values), and existing Secrets
# (e.g. Strimzi's cluster CA). check_deploy.py's SECURED_PASSWORD is the password here.
write_secured_values() {
  cat >"$work/secured.yaml" <<'YAML'
kafka:
  sasl: {mechanism: SCRAM-SHA-512, username: ebb, password: chart-check-password}
  tls:
    enabled: true
    ca: |
      -----BEGIN CERTIFICATE-----
      MIIBszCCAVmgAwIBAgIUchartcheck
      -----END CERTIFICATE-----
producer: {enabled: true}
YAML
  cat >"$work/secured-existing.yaml" <<'YAML'
kafka:
  sasl: {mechanism: SCRAM-SHA-512, existingSecret: ebb-kafka-user}
  tls: {enabled: true, caSecret: ebb-cluster-ca-cert}
scaling: {mode: keda-ebb}
YAML
}

render_charts() {
  mkdir -p "$work/render"
  write_everything_values
  write_secured_values
  local chart="$root/deploy/helm/ebb" entry name mode rest
  local -a args
  check "helm lint deploy/helm/ebb (values against values.schema.json)" \
    "$helm" lint --strict --kube-version "$kubernetes_version" "$chart"
  check "helm lint deploy/helm/kafka-cluster" \
    "$helm" lint --strict --kube-version "$kubernetes_version" "$root/deploy/helm/kafka-cluster"
  for entry in "${ebb_cases[@]}"; do
    read -r name mode rest <<<"$entry"
    read -r -a args <<<"$rest"
    check "helm lint + template ebb, $name" render_ebb "$name" "${args[@]}"
    check "chart invariants, $name (mode $mode)" \
      py chart-invariants "$name" "$mode" "$work/render/ebb-$name.yaml"
  done
  # The environments exactly as the helmfile passes them (release name and values file).
  check "helmfile: releases, environments, values files" py helmfile "$root/deploy/helmfile.yaml"
  local env chart_dir values
  while read -r _ env chart_dir values; do
    local release
    release="$(basename "$chart_dir")"
    local out="$work/render/$release-$env.yaml"
    check "helm lint + template $release, environment $env" \
      helm_render "$out" "$chart_dir" --values "$values"
    if [ "$release" = ebb ]; then
      local env_mode
      env_mode="$(sed -n 's/^  mode: *//p' "$values")"
      check "chart invariants, environment $env (mode $env_mode)" \
        py chart-invariants "env-$env" "$env_mode" "$out"
    fi
  done < <(py helmfile "$root/deploy/helmfile.yaml" | grep '^render ')
  check "helm template kafka-cluster, chart defaults" \
    helm_render "$work/render/kafka-cluster-default.yaml" "$root/deploy/helm/kafka-cluster"
}

helm_render() {  # OUT CHART ARGS...
  local out="$1" chart="$2"
  shift 2
  "$helm" lint --strict --kube-version "$kubernetes_version" "$chart" "$@" &&
    "$helm" template ebb "$chart" --namespace ebb --kube-version "$kubernetes_version" "$@" >"$out"
}

render_ebb() {  # NAME HELM-ARGS...
  local name="$1"
  shift
  helm_render "$work/render/ebb-$name.yaml" "$root/deploy/helm/ebb" "$@"
}

chart_canaries() {
  local chart="$root/deploy/helm/ebb"
  local kv=(--kube-version "$kubernetes_version")
  reject "canary: the chart refuses a termination grace period shorter than the drain" \
    "must exceed consumer.gracePeriod" \
    "$helm" template ebb "$chart" "${kv[@]}" --set consumer.gracePeriod=60 \
    --set consumer.terminationGracePeriodSeconds=30
  reject "canary: values.schema.json refuses an unknown scaling mode" "mode" \
    "$helm" lint --strict "$chart" --set scaling.mode=keda
  reject "canary: values.schema.json refuses a misspelt value" \
    "additional properties.*gracePeriods" \
    "$helm" lint --strict "$chart" --set consumer.gracePeriods=10
  reject "canary: the chart refuses KEDA trigger settings KEDA rejects" "cannot both be true" \
    "$helm" template ebb "$chart" "${kv[@]}" --set scaling.kedaKafka.allowIdleConsumers=true \
    --set scaling.kedaKafka.limitToPartitionsWithLag=true
  reject "canary: the chart refuses KEDA's kafka trigger for a share group" "consumer-group offsets" \
    "$helm" template ebb "$chart" "${kv[@]}" --set consumer.groupType=share
  reject "canary: the chart refuses SASL without credentials" "existing credentials Secret" \
    "$helm" template ebb "$chart" "${kv[@]}" --set kafka.sasl.mechanism=SCRAM-SHA-512
  reject "canary: values.schema.json refuses an unknown SASL mechanism" "mechanism" \
    "$helm" lint --strict "$chart" --set kafka.sasl.mechanism=GSSAPI
  local kafka_chart="$root/deploy/helm/kafka-cluster"
  printf 'nodePools:\n  - {name: dual, replicas: 2, roles: [controller, broker], %s}\n' \
    'storage: {type: ephemeral}' >"$work/even-quorum.yaml"
  reject "canary: kafka-cluster refuses an even controller quorum" "odd number" \
    "$helm" template k "$kafka_chart" "${kv[@]}" --values "$work/even-quorum.yaml"
  reject "canary: kafka-cluster refuses min.insync.replicas above the replication factor" \
    "exceeds default.replication.factor" \
    "$helm" template k "$kafka_chart" "${kv[@]}" --set config.min\\.insync\\.replicas=2
}

validate_manifests() {
  local manifests=("$work"/render/*.yaml "$root"/deploy/argocd/*.yaml)
  check "kubeconform -strict: ${#manifests[@]} files (chart cases, environments, Argo CD)" \
    kubeconform_strict "${manifests[@]}"
  cat "$work/out" | grep -E '^Summary' || true
  # Canaries: one unknown field in each kind must be rejected (strict schemas really are in use).
  local kind file
  for kind in Deployment Service PodDisruptionBudget HorizontalPodAutoscaler ServiceAccount \
    ScaledObject ServiceMonitor Kafka KafkaNodePool KafkaTopic Application ApplicationSet; do
    if [[ ",$crd_kinds," == *",$kind,"* ]] && [ "${#skip_crds[@]}" -gt 0 ]; then continue; fi
    rm -f "$work/broken.yaml"
    for file in "${manifests[@]}"; do
      py break-manifest "$kind" "$file" "$work/broken.yaml" >/dev/null 2>&1 && break
    done
    if [ ! -f "$work/broken.yaml" ]; then
      failed=$((failed + 1))
      echo "FAILED: canary: no $kind rendered to break"
      continue
    fi
    reject "canary: kubeconform rejects an unknown field in a $kind" "notAField" \
      kubeconform_strict "$work/broken.yaml"
  done
  if [ -d "$schemas_dir" ]; then
    check "ScaledObject trigger metadata against KEDA's scaler schema" \
      py keda-triggers "$schemas_dir"/keda-*/scalers-schema.json "$work"/render/ebb-*.yaml
    sed 's/lagThreshold:/lagThresold:/' "$work/render/ebb-keda-kafka.yaml" >"$work/broken-keda.yaml"
    reject "canary: a misspelt kafka trigger key is rejected" "unknown metadata lagThresold" \
      py keda-triggers "$schemas_dir"/keda-*/scalers-schema.json "$work/broken-keda.yaml"
  fi
  check "ebb containers use subcommands, flags and EBB_* variables the binary has" \
    py ebb-flags "$ebb" "$work"/render/ebb-*.yaml
  check "every value of the ebb chart documented (# --) and in its schema" \
    py values-docs "$root/deploy/helm/ebb"
  check "every value of the kafka-cluster chart documented (# --) and in its schema" \
    py values-docs "$root/deploy/helm/kafka-cluster"
  cp -r "$root/deploy/helm/ebb" "$work/undocumented"
  sed -i '/# -- Seconds between offset commits/d' "$work/undocumented/values.yaml"
  reject "canary: a value without its # -- comment is reported" "consumer.commitInterval has no" \
    py values-docs "$work/undocumented"
  "$helm" template ebb "$root/deploy/helm/ebb" --kube-version "$kubernetes_version" \
    --set scaling.mode=none >"$work/none.yaml"
  reject "canary: a consumer Deployment with spec.replicas under KEDA is reported" \
    "has spec.replicas in mode keda-kafka" \
    py chart-invariants canary keda-kafka "$work/none.yaml"
  check "Argo CD Application and ApplicationSet" \
    py argocd "$root/deploy/argocd/application.yaml" "$root/deploy/argocd/applicationset.yaml" \
    "$root"
}

# ---- the image recipe (no Docker engine here: docker build itself is not run) -----------------

check_image_recipe() {
  check "Dockerfile: CI's build scripts, non-root, exec-form ENTRYPOINT, every library ebb loads" \
    py dockerfile "$root/deploy/docker/Dockerfile" "$root/.dockerignore" "$ebb" "$root"
  sed 's/ libbrotli1 / /' "$root/deploy/docker/Dockerfile" >"$work/Dockerfile.broken"
  reject "canary: a runtime stage without a library ebb loads is rejected" "libbrotli" \
    py dockerfile "$work/Dockerfile.broken" "$root/.dockerignore" "$ebb" "$root"
}

# ---- compose, Prometheus, Grafana -------------------------------------------------------------

check_compose_and_monitoring() {
  local schema="$compose_module/schema/compose-spec.json"
  check "compose.k.yml against the compose-spec schema (compose-go $compose_go_version)" \
    py compose "$schema" "$root/compose.k.yml" "$ebb"
  sed 's/^\( *\)stop_grace_period: 30s/\1stop_grace_periods: 30s/' "$root/compose.k.yml" \
    >"$work/broken-compose.yml"
  reject "canary: the compose-spec schema rejects an unknown service key" "stop_grace_periods" \
    py compose "$schema" "$work/broken-compose.yml" "$ebb"
  check "promtool check config deploy/prometheus/prometheus.yml" \
    promtool check config "$root/deploy/prometheus/prometheus.yml"
  check "Grafana dashboard: JSON, layout, data source variable, ebb metric names" \
    py dashboard "$root/deploy/grafana/dashboards/ebb.json" "$work/dashboard-rules.yml" \
    "$root/src" "$root/apps"
  check "Grafana dashboard: every query parses as PromQL (promtool check rules)" \
    promtool check rules "$work/dashboard-rules.yml"
  sed 's/ebb_group_partition_lag_messages{/ebb_group_partition_lags{/' \
    "$root/deploy/grafana/dashboards/ebb.json" >"$work/broken-dashboard.json"
  reject "canary: a dashboard query on a metric ebb does not export is rejected" \
    "ebb_group_partition_lags" \
    py dashboard "$work/broken-dashboard.json" "$work/broken-rules.yml" "$root/src" "$root/apps"
}

# ---- ebb's real /metrics ----------------------------------------------------------------------

# start_ebb NAME ARGS...: runs ebb in the background with --http on a free port; sets port_NAME.
start_ebb() {
  local name="$1"
  shift
  "$ebb" "$@" --http 127.0.0.1:0 >"$work/$name.out" 2>"$work/$name.err" &
  children+=($!)
  eval "pid_$name=$!"
  local deadline=$((SECONDS + 30)) port=""
  while [ -z "$port" ] && [ $SECONDS -lt $deadline ]; do
    port="$(sed -n 's|.*serving /metrics.* on http://[^:]*:\([0-9]*\).*|\1|p' "$work/$name.err")"
    port="${port%%$'\n'*}"
    [ -n "$port" ] || sleep 0.2
  done
  eval "port_$name=$port"
  [ -n "$port" ]
}

# Lint findings of promtool check metrics that are known and tracked, with where the fix belongs. A
# parse error, or any other finding, fails.
known_metric_lint=(
  # (none at present)
)

promtool_metrics() {  # FILE
  local code=0 line known pattern
  promtool check metrics <"$1" >"$work/promtool.out" 2>&1 || code=$?
  cat "$work/promtool.out"
  [ "$code" -eq 0 ] && return 0
  [ "$code" -eq 3 ] || return 1 # 3: lint findings only; anything else is a parse error
  while IFS= read -r line; do
    known=""
    for pattern in "${known_metric_lint[@]}"; do
      [[ "$line" =~ $pattern ]] && known=1
    done
    [ -n "$known" ] || return 1
  done <"$work/promtool.out"
  sort -u "$work/promtool.out" | sed 's/^/pending: known promtool finding (known_metric_lint): /'
  return 0
}

fetch() {  # URL OUT
  "$python" - "$@" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as response:
    open(sys.argv[2], "wb").write(response.read())
PY
}

# wait_for_metric PORT PATTERN OUT: until /metrics on PORT has a line matching PATTERN (60 s).
wait_for_metric() {
  local deadline=$((SECONDS + 60))
  while [ $SECONDS -lt $deadline ]; do
    if fetch "http://127.0.0.1:$1/metrics" "$3" 2>/dev/null && grep -qE "$2" "$3"; then return 0; fi
    sleep 0.5
  done
  echo "no line matching /$2/ on :$1/metrics within 60 s"
  return 1
}

check_live_metrics() {
  local bootstrap="${EBB_BOOTSTRAP_SERVERS:-}" topic="ebb-deploy-check-$$-$RANDOM"
  local group="$topic"
  # Against the caller's cluster when EBB_BOOTSTRAP_SERVERS is set (as the integration tests do).
  local kafka="$root/tools/kafka/kafka.sh"
  if [ -z "$bootstrap" ] &&
    ! bootstrap="$(bash "$kafka" start --dir "$work/kafka" --owner-pid $$ 2>"$work/kafka.err")"; then
    failed=$((failed + 1))
    echo "FAILED: start a broker for the /metrics checks"
    tail -n 20 "$work/kafka.err" | sed 's/^/    /'
    return
  fi
  check "create topic $topic" bash "$kafka" run-class org.apache.kafka.tools.TopicCommand \
    --bootstrap-server "$bootstrap" --create --topic "$topic" --partitions 3 --replication-factor 1
  unset EBB_BOOTSTRAP_SERVERS EBB_TOPIC EBB_GROUP EBB_HTTP EBB_PROPERTIES
  check "ebb produce --http starts" start_ebb produce produce -b "$bootstrap" -t "$topic" \
    --rate 200 --duration 120 --keys uniform:10
  check "ebb consume --http starts" \
    start_ebb consume consume -b "$bootstrap" -t "$topic" -g "$group" \
    --grace-period 5
  check "ebb lag --http starts" \
    start_ebb lag lag -b "$bootstrap" -g "$group" -t "$topic" --interval 0.5
  # The chart's keda-ebb scaler: ebb's policy behind KEDA's external scaler API.
  check "ebb scale --serve-keda --http starts" \
    start_ebb scale scale -b "$bootstrap" -g "$group" -t "$topic" --serve-keda 127.0.0.1:0 \
    --policy slo --set interval=1s
  local name pattern
  for name in produce consume lag scale; do
    case "$name" in
      produce) pattern='^ebb_producer_messages_acknowledged_total\{.*\} [1-9]' ;;
      consume) pattern='^ebb_consumer_messages_consumed_total\{.*\} [1-9]' ;;
      lag) pattern='^ebb_group_partition_committed_offset\{.*\} [1-9]' ;;
      scale) pattern='^ebb_scale_decisions_total\{.*\} [1-9]' ;;
    esac
    local port_var="port_$name"
    check "ebb $name: /metrics shows it working" \
      wait_for_metric "${!port_var}" "$pattern" "$work/$name.metrics"
    check "promtool check metrics on ebb $name's /metrics" promtool_metrics "$work/$name.metrics"
    check "ebb $name's metric families are the ones the sources declare" \
      py metric-names "$work/$name.metrics" "$root/src" "$root/apps"
  done
  check "consumer /healthz answers 200 (the chart's liveness probe)" \
    fetch "http://127.0.0.1:$port_consume/healthz" "$work/healthz"
  check "consumer /readyz answers 200 once in the group (the chart's readiness probe)" \
    fetch "http://127.0.0.1:$port_consume/readyz" "$work/readyz"
  # PID 1 in the image gets SIGTERM from Kubernetes and Docker: the consumer drains and exits 0.
  local code
  kill -TERM "$pid_consume" "$pid_produce" "$pid_lag" "$pid_scale"
  wait "$pid_consume"
  code=$?
  check "ebb consume exits 0 after SIGTERM (drained, committed, left the group)" test "$code" -eq 0
  wait "$pid_produce"
  code=$?
  check "ebb produce exits 0 after SIGTERM" test "$code" -eq 0
  wait "$pid_lag"
  code=$?
  check "ebb lag exits 0 after SIGTERM" test "$code" -eq 0
  wait "$pid_scale"
  code=$?
  check "ebb scale --serve-keda exits 0 after SIGTERM" test "$code" -eq 0
  children=()
  bash "$root/tools/kafka/kafka.sh" stop --dir "$work/kafka" >/dev/null 2>&1
}

# ---- main --------------------------------------------------------------------------------------

# --print-helm: only build the tools and print helm's path (the Kubernetes tier, tests/k8s, uses it).
if [ "${1:-}" = "--print-helm" ]; then
  install_tools
  echo "$helm"
  exit 0
fi
ebb="${1:-$root/build/release/apps/ebb/ebb}"
if [ ! -x "$ebb" ]; then
  "$root/scripts/build.sh" release || die "building ebb failed"
fi
started=$SECONDS
install_tools
promtool_version="$(promtool --version 2>&1 | sed -n '1s/.*version \([^ ]*\).*/\1/p')"
log "check-deploy: tools ready after $((SECONDS - started)) s: helm $helm_version," \
  "kubeconform $kubeconform_version, promtool $promtool_version," \
  "Kubernetes $kubernetes_version schemas, compose-go $compose_go_version"
make_schemas
render_charts
chart_canaries
validate_manifests
check_image_recipe
check_compose_and_monitoring
check_live_metrics
log "check-deploy: done in $((SECONDS - started)) s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
