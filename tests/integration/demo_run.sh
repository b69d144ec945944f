# Shared by the `ebb demo` tests: a scratch directory, and a cleanup that leaves nothing running
# whatever happened (the demo killed, each broker it started stopped). Source it after check.sh;
# set demo_pid to the demo's pid once it runs.

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="$(mktemp -d)"
demo_pid=""

cleanup_demo() {
  if [ -n "$demo_pid" ] && kill -0 "$demo_pid" 2>/dev/null; then
    kill -KILL "$demo_pid" 2>/dev/null
    wait "$demo_pid" 2>/dev/null
  fi
  local broker
  for broker in "$work"/out/demo-*/broker; do
    [ -d "$broker" ] && "$root/tools/kafka/kafka.sh" stop --dir "$broker" >/dev/null 2>&1
  done
  if [ "$failures" -eq 0 ]; then rm -rf "$work"; else echo "kept $work for a look"; fi
}
trap cleanup_demo EXIT
unset EBB_BOOTSTRAP_SERVERS

# Waits up to SECONDS for the demo to end; sets `status` to its exit status ("" if it still runs).
wait_for_demo() {  # SECONDS
  local _
  status=""
  for _ in $(seq 1 $(($1 * 10))); do
    if ! kill -0 "$demo_pid" 2>/dev/null; then
      wait "$demo_pid"
      status=$?
      demo_pid=""
      return
    fi
    sleep 0.1
  done
}
