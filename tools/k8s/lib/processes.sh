# The cluster's processes: start, wait until ready, stop; and what they leave behind (containers,
# mounts, the bridge, cgroups). Sourced by tools/k8s/cluster.sh, which sets dir, bin, bridge.

# launch NAME COMMAND...: runs it in its own session, output in DIR/logs/NAME.log, pid in DIR/pids.
launch() {
  local name="$1"
  shift
  setsid "$@" >"$dir/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/$name.pid"
}

# fail_component NAME REASON: names the component and shows its log tail, then fails.
fail_component() {
  local name="$1" reason="$2"
  log "---- last lines of $dir/logs/$name.log ----"
  tail -n 25 "$dir/logs/$name.log" >&2 2>/dev/null || true
  die "$name: $reason"
}

# await NAME WHAT COMMAND...: waits until COMMAND succeeds; fails naming NAME if its process exits
# or start_timeout passes.
await() {
  local name="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + start_timeout)) pid
  pid="$(cat "$dir/pids/$name.pid" 2>/dev/null || true)"
  until "$@" >/dev/null 2>&1; do
    [ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || fail_component "$name" "exited before $what"
    [ $SECONDS -lt $deadline ] || fail_component "$name" "not $what within $start_timeout s"
    sleep 0.5
  done
}

any_alive() {
  local pidfile
  for pidfile in "$dir"/pids/*.pid; do
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null && return 0
  done
  return 1
}

# stop_process NAME: SIGTERM, then SIGKILL after 15 s.
stop_process() {
  local pidfile="$dir/pids/$1.pid" pid
  [ -f "$pidfile" ] || return 0
  pid="$(cat "$pidfile")"
  if kill -TERM "$pid" 2>/dev/null; then
    local deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.2; done
    kill -0 "$pid" 2>/dev/null && { log "$1 did not stop within 15 s; killing it"; kill -KILL "$pid" 2>/dev/null; }
  fi
  rm -f "$pidfile"
}

# Every container containerd runs for this cluster: killed through containerd itself, then its
# shims (which outlive containerd) by their -address.
stop_containers() {
  local sock="$dir/containerd/containerd.sock"
  if [ -S "$sock" ] && [ -f "$dir/pids/containerd.pid" ]; then
    local ctr=(ctr --address "$sock" -n k8s.io) task
    for task in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
      "${ctr[@]}" tasks kill -s SIGKILL "$task" >/dev/null 2>&1 || true
    done
    sleep 0.5
    for task in $("${ctr[@]}" tasks ls -q 2>/dev/null); do
      "${ctr[@]}" tasks delete -f "$task" >/dev/null 2>&1 || true
    done
  fi
  local pid
  for pid in $(pgrep -f "containerd-shim.* -address $sock" 2>/dev/null); do
    kill -KILL "$pid" 2>/dev/null || true
  done
}

# Unmounts everything mounted under DIR (pod volumes, overlay snapshots, network namespaces), the
# deepest first.
unmount_all() {
  local mounts
  mapfile -t mounts < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/self/mounts | sort -r)
  local m
  for m in "${mounts[@]}"; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log "cannot unmount $m"
  done
}

# The pods' cgroups the kubelet made (cgroupfs driver): empty once the containers are gone.
remove_cgroups() {
  local base
  for base in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/unified/kubepods /sys/fs/cgroup/kubepods; do
    [ -d "$base" ] || continue
    find "$base" -depth -type d -exec rmdir {} + 2>/dev/null || true
  done
}

cmd_stop_dir() {
  dir="$1"
  trap - EXIT
  if [ -f "$dir/pids/watchdog.pid" ]; then
    local pid
    pid="$(cat "$dir/pids/watchdog.pid")"
    [ "$pid" = "$$" ] || [ "$pid" = "$PPID" ] || kill "$pid" 2>/dev/null || true
    rm -f "$dir/pids/watchdog.pid"
  fi
  local name
  for name in keda-adapter keda-operator kube-proxy kubelet; do stop_process "$name"; done
  stop_containers
  stop_process containerd
  for name in coredns kube-scheduler kube-controller-manager kube-apiserver etcd; do
    stop_process "$name"
  done
  unmount_all
  network_down
  iptables_cleanup
  remove_cgroups
  rm -rf "$dir"/{etcd,containerd,kubelet} "$dir/env"
  # containerd's shims put their sockets under /run/containerd/s whatever its config says.
  rmdir /run/containerd/s /run/containerd 2>/dev/null || true
}

# Stops the cluster when OWNER exits (a test that dies still leaves nothing running).
start_watchdog() {
  local owner="$1"
  setsid bash -c 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; exec "$2" stop --dir "$3"' \
    _ "$owner" "$here/cluster.sh" "$dir" >"$dir/logs/watchdog.log" 2>&1 </dev/null &
  echo $! >"$dir/pids/watchdog.pid"
}
