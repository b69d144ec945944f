# Shared by the shell tests: counted checks and a summary line. Source it, call `check` for each
# assertion, and end the script with `finish`.

failures=0
passed=0

check() {  # NAME COMMAND...: passes when the command succeeds
  local name="$1"
  shift
  if "$@"; then
    passed=$((passed + 1))
    echo "ok: $name"
  else
    failures=$((failures + 1))
    echo "FAILED: $name"
  fi
}

# No process whose command line holds PATTERN, within 10 s (a stopping broker takes a moment).
# A function, so that no `bash -c` of ours carries the pattern in its own command line.
none_left() {  # PATTERN
  local _
  for _ in $(seq 1 100); do
    pgrep -f -- "$1" >/dev/null || return 0
    sleep 0.1
  done
  pgrep -af -- "$1"
  return 1
}

finish() {  # [DETAIL]: prints the counts; the exit status says whether everything passed
  echo "$passed passed, $failures failed${1:+ ($1)}"
  [ "$failures" -eq 0 ]
}
