#!/usr/bin/env bash
# A single-node Kubernetes cluster on this machine, from Kubernetes' and KEDA's own code
# (tools/k8s/build.sh builds them once into .cache/k8s): no Docker, no kind, no registry.
#
#   cluster.sh start [options]   start it; prints the kubeconfig's path
#       --dir DIR          run directory: certificates, configs, data, logs (default .cache/k8s-run/local)
#       --owner-pid PID    stop the cluster when process PID exits (tests: never leave orphans)
#       --no-keda          without KEDA's operator and metrics API server
#   cluster.sh stop [--dir DIR]     stop every process, container, mount and interface it started
#   cluster.sh status [--dir DIR]   the components' processes and the node
#   cluster.sh check               exit 0 if this machine can run the cluster, else say why (exit 3)
#   cluster.sh env [--dir DIR]     KUBECONFIG=..., NODE_IP=..., for `eval`
#
# What runs, all as host processes of this machine: etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, CoreDNS, containerd (Debian's, with runc), the kubelet and kube-proxy; KEDA's
# operator and its metrics API server (registered as v1beta1.external.metrics.k8s.io, as KEDA's
# chart does), which resolve names through the cluster's DNS as pods do. Pods get their
# addresses from the CNI bridge plugin on a bridge of their own (ebb-k8s0, 10.223.0.0/16): the node,
# the API server and a broker started with `kafka.sh start --host 10.223.0.1` listen on its gateway
# address, which only this machine and its pods reach. Certificates are made at start with openssl.
#
# Needs root, cgroups (v1 or v2) with the memory and cpu controllers, and the overlay filesystem;
# `check` says which is missing. Every port is chosen free at start.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tools/k8s"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
# shellcheck source=tools/k8s/versions.sh
source "$here/versions.sh"

bin="$EBB_CACHE/k8s/bin"
images="$EBB_CACHE/k8s/images"
bridge="ebb-k8s0"
node_ip="10.223.0.1"
pod_cidr="10.223.0.0/16"
service_cidr="10.96.0.0/16"
node_name="ebb-node"
start_timeout="${EBB_K8S_START_TIMEOUT:-120}"

# shellcheck source=tools/k8s/lib/processes.sh
source "$here/lib/processes.sh"
# shellcheck source=tools/k8s/lib/pki.sh
source "$here/lib/pki.sh"
# shellcheck source=tools/k8s/lib/components.sh
source "$here/lib/components.sh"

# Why this machine cannot run a kubelet, or nothing.
missing_feature() {
  [ "$(id -u)" -eq 0 ] || { echo "not root: the kubelet and containerd need root"; return; }
  local controller
  for controller in memory cpu pids; do
    [ -d "/sys/fs/cgroup/$controller" ] || grep -qw "$controller" /sys/fs/cgroup/cgroup.controllers 2>/dev/null ||
      { echo "no $controller cgroup controller mounted under /sys/fs/cgroup"; return; }
  done
  grep -qw overlay /proc/filesystems || { echo "the kernel has no overlay filesystem (containerd's snapshotter)"; return; }
  command -v ip >/dev/null || { echo "iproute2 (ip) is not installed"; return; }
  ip link add ebb-k8s-probe type bridge 2>/dev/null || { echo "cannot create a bridge interface (CNI)"; return; }
  ip link del ebb-k8s-probe
  local tool
  for tool in containerd runc openssl; do
    command -v "$tool" >/dev/null || { echo "$tool is not installed (scripts/bootstrap.sh k8s installs it)"; return; }
  done
  [ -x /usr/lib/cni/bridge ] || echo "the CNI plugins are not installed (containernetworking-plugins)"
}

cmd_check() {
  local why
  why="$(missing_feature)"
  [ -z "$why" ] && return 0
  echo "this machine cannot run the cluster: $why"
  exit 3
}

# DIR/env: what a caller needs (tests read it).
write_env() {
  cat >"$dir/env" <<EOF
KUBECONFIG=$dir/pki/admin.kubeconfig
EBB_K8S_NODE_IP=$node_ip
EBB_K8S_NODE_NAME=$node_name
EBB_K8S_DIR=$dir
EOF
}

cmd_start() {
  dir="$EBB_CACHE/k8s-run/local"
  local owner_pid="" keda=1
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) dir="$2"; shift 2 ;;
      --owner-pid) owner_pid="$2"; shift 2 ;;
      --no-keda) keda=""; shift ;;
      *) die "unknown option for start: $1 (see tools/k8s/cluster.sh header)" ;;
    esac
  done
  local why
  why="$(missing_feature)"
  [ -z "$why" ] || die "this machine cannot run the cluster: $why"
  "$here/build.sh" components
  [ -f "$images/pause.tar" ] && [ -f "$images/ebb.tar" ] || "$here/build.sh" images
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  any_alive && die "a cluster from $dir is still running: run 'cluster.sh stop --dir $dir' first"
  ip link show "$bridge" >/dev/null 2>&1 &&
    die "interface $bridge exists: another cluster runs (cluster.sh stop --dir ITS_DIR), or delete it"
  rm -rf "$dir"/{pki,etcd,logs,pids,containerd,kubelet,cni,config}
  mkdir -p "$dir"/{logs,pids,config}
  # From here on, a failure (a command, or die naming a component) stops whatever did start.
  trap 'log "start failed: stopping what started"; cmd_stop_dir "$dir"' EXIT
  local started=$SECONDS
  network_up
  choose_ports
  make_pki
  start_control_plane
  start_dns
  start_node
  [ -z "$keda" ] || start_keda
  trap - EXIT
  write_env
  [ -n "$owner_pid" ] && start_watchdog "$owner_pid"
  log "k8s: cluster ready in $((SECONDS - started)) s (node $node_name at $node_ip)"
  echo "$dir/pki/admin.kubeconfig"
}

cmd_stop() {
  dir="$EBB_CACHE/k8s-run/local"
  while [ $# -gt 0 ]; do
    case "$1" in
      --dir) dir="$2"; shift 2 ;;
      *) die "unknown option for stop: $1" ;;
    esac
  done
  [ -d "$dir" ] || return 0
  cmd_stop_dir "$(cd "$dir" && pwd)"
}

cmd_status() {
  dir="$EBB_CACHE/k8s-run/local"
  [ "${1:-}" = "--dir" ] && dir="$2"
  local pidfile name
  for pidfile in "$dir"/pids/*.pid; do
    [ -f "$pidfile" ] || continue
    name="$(basename "$pidfile" .pid)"
    if kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "$name: running"; else echo "$name: stopped"; fi
  done
  [ -f "$dir/pki/admin.kubeconfig" ] && "$bin/kubectl" --kubeconfig "$dir/pki/admin.kubeconfig" get nodes -o wide
}

cmd_env() {
  dir="$EBB_CACHE/k8s-run/local"
  [ "${1:-}" = "--dir" ] && dir="$2"
  [ -f "$dir/env" ] || die "no cluster runs from $dir"
  cat "$dir/env"
}

main() {
  local what="${1:-}"
  [ $# -gt 0 ] && shift
  case "$what" in
    start) cmd_start "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    check) cmd_check ;;
    env) cmd_env "$@" ;;
    *) die "usage: tools/k8s/cluster.sh start|stop|status|check|env [options] (see its header)" ;;
  esac
}

main "$@"
