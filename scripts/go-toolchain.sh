#!/usr/bin/env bash
# Prints the path of a Go toolchain that builds tools/share-admin (Go >= 1.26: franz-go's admin
# client needs it), and downloads the helper's modules into .cache/go/mod.
# The machine's `go` serves when it is new enough; otherwise Go 1.26.8 comes from the Go module
# proxy (the golang.org/toolchain module, as `GOTOOLCHAIN` fetches it) into .cache/go-toolchain,
# which needs no Go at all (Debian bookworm's golang is 1.19).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

go_version="1.26.8"
toolchain="$EBB_CACHE/go-toolchain"

new_enough() {  # GO
  local version
  version="$("$1" env GOVERSION 2>/dev/null)" || return 1
  version="${version#go}"
  local major="${version%%.*}" rest="${version#*.}"
  local minor="${rest%%.*}"
  [[ "$major" =~ ^[0-9]+$ && "$minor" =~ ^[0-9]+$ ]] || return 1
  [ "$major" -gt 1 ] || [ "$minor" -ge 26 ]
}

find_go() {
  if [ -x "$toolchain/go/bin/go" ]; then
    echo "$toolchain/go/bin/go"
  elif command -v go >/dev/null && new_enough "$(command -v go)"; then
    command -v go
  else
    return 1
  fi
}

fetch_toolchain() {
  local arch
  case "$(uname -m)" in
    x86_64) arch=amd64 ;;
    aarch64) arch=arm64 ;;
    *) die "no Go toolchain for $(uname -m)" ;;
  esac
  local proxy="${GOPROXY:-https://proxy.golang.org}"
  proxy="${proxy%%,*}"
  local url="$proxy/golang.org/toolchain/@v/v0.0.1-go$go_version.linux-$arch.zip"
  log "go: fetching Go $go_version from $url"
  mkdir -p "$EBB_CACHE"
  local zip="$EBB_CACHE/go-toolchain.zip.part"
  curl -fsSL --retry 3 -o "$zip" "$url" || die "go: cannot download $url"
  rm -rf "$toolchain.part"
  mkdir -p "$toolchain.part"
  # The module zip holds golang.org/toolchain@VERSION/...: that folder is GOROOT.
  python3 -m zipfile -e "$zip" "$toolchain.part"
  mv "$toolchain.part/golang.org/toolchain@v0.0.1-go$go_version.linux-$arch" "$toolchain.part/go"
  chmod -R u+x "$toolchain.part/go/bin" "$toolchain.part/go/pkg/tool"
  rm -rf "$toolchain" "$zip"
  mv "$toolchain.part" "$toolchain"
}

go_bin="$(find_go)" || { fetch_toolchain >&2; go_bin="$(find_go)"; }
# Modules once, so that builds need no network.
(cd "$root/tools/share-admin" &&
  GOMODCACHE="$EBB_CACHE/go/mod" GOCACHE="$EBB_CACHE/go/build" GOTOOLCHAIN=local GOFLAGS=-mod=readonly \
    "$go_bin" mod download) >&2 || die "go: cannot download tools/share-admin's modules"
echo "$go_bin"
