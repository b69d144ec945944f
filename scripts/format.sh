#!/usr/bin/env bash
# Formats the C++ sources with .clang-format; with --check, only reports files that differ.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
need clang-format "run scripts/bootstrap.sh (it installs clang-format)"

cd "$root"
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.h' '*.cpp')
[ "${#files[@]}" -gt 0 ] || exit 0
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run --Werror "${files[@]}" ||
    die "some files are not formatted: run 'make format'"
  log "format: ${#files[@]} files formatted as .clang-format says"
else
  clang-format -i "${files[@]}"
fi
