#!/usr/bin/env bash
# Builds librdkafka from its official source into a project-local prefix, once.
#
# Debian bookworm ships librdkafka 2.0.2, which predates the KIP-848 consumer group protocol (GA in
# 2.12) and the ListOffsets admin API. The official 2.15.1 source is published on the npm registry inside
# @confluentinc/kafka-javascript (deps/librdkafka/), which this machine can reach; we take it from there,
# check the tarball against a pinned digest and build it with its own configure (no downloads).
#
# A system librdkafka is used instead when pkg-config finds 2.12 or newer.
#
#   build-librdkafka.sh        into .cache/librdkafka-VERSION
#   build-librdkafka.sh tsan   into .cache/librdkafka-VERSION-tsan, with pthreads instead of glibc's
#                              C11 threads: ThreadSanitizer does not intercept thrd_create, so
#                              librdkafka's threads would run without TSan's thread state and crash
#                              (librdkafka's configure says so for --disable-c11threads)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

readonly rdkafka_version="2.15.1"
readonly npm_package="@confluentinc/kafka-javascript@1.10.1"
readonly npm_tarball="confluentinc-kafka-javascript-1.10.1.tgz"
readonly npm_tarball_sha256="ada7d703bb1d3237e2292bfabf438d663b6160c9f1ac2a2406b5dc4257c81b66"
readonly minimum_system_version="2.12.0"

flavour="${1:-}"
configure_extra=()
case "$flavour" in
  "") prefix="$EBB_CACHE/librdkafka-$rdkafka_version" ;;
  tsan)
    prefix="$EBB_CACHE/librdkafka-$rdkafka_version-tsan"
    configure_extra=(--disable-c11threads)
    ;;
  *) die "usage: build-librdkafka.sh [tsan]" ;;
esac
stamp="$prefix/.ebb-built"

version_at_least() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -n1)" = "$2" ]; }

if [ -f "$stamp" ]; then
  log "librdkafka $rdkafka_version: cached in $prefix"
  exit 0
fi
if [ -z "$flavour" ] && system_version="$(pkg-config --modversion rdkafka 2>/dev/null)" &&
  version_at_least "$system_version" "$minimum_system_version"; then
  log "librdkafka: using the system's $system_version (>= $minimum_system_version)"
  exit 0
fi

need npm "run scripts/bootstrap.sh (it installs npm from Debian)"
need make "run scripts/bootstrap.sh (it installs build-essential)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log "librdkafka $rdkafka_version: fetching the official source ($npm_package)"
(cd "$work" && npm pack --silent "$npm_package" >/dev/null) ||
  die "npm pack $npm_package failed: is the npm registry reachable?"
actual_sha256="$(sha256sum "$work/$npm_tarball" | cut -d' ' -f1)"
[ "$actual_sha256" = "$npm_tarball_sha256" ] ||
  die "integrity check failed for $npm_tarball: sha256 $actual_sha256, expected $npm_tarball_sha256"
tar -xzf "$work/$npm_tarball" -C "$work" package/deps/librdkafka

src="$work/package/deps/librdkafka"
grep -q "RD_KAFKA_VERSION  *0x020f01ff" "$src/src/rdkafka.h" ||
  die "the package does not carry librdkafka $rdkafka_version"

log "librdkafka $rdkafka_version${flavour:+ ($flavour)}: building (about 30 s on 2 cores)"
(
  cd "$src"
  ./configure --no-download --prefix="$prefix" \
    --enable-ssl --enable-gssapi --enable-zstd --enable-lz4-ext --enable-zlib \
    --disable-curl "${configure_extra[@]}" >"$work/configure.log" 2>&1 ||
    {
      tail -n 30 "$work/configure.log" >&2
      exit 1
    }
  make -j"$(nproc)" libs >"$work/make.log" 2>&1 || {
    tail -n 30 "$work/make.log" >&2
    exit 1
  }
  make -C src install >"$work/install.log" 2>&1
  make -C src-cpp install >>"$work/install.log" 2>&1
) || die "building librdkafka failed (log above)"

# Require the features ebb relies on, so a missing -dev package is caught here and not at run time.
features="$(grep -E '^#define WITH_(SSL|SASL_SCRAM|ZSTD|LZ4_EXT) 1' "$src/config.h" | wc -l)"
[ "$features" -eq 4 ] || die "librdkafka was built without SSL, SASL/SCRAM, zstd or lz4 (see config.h)"

touch "$stamp"
log "librdkafka $rdkafka_version: installed in $prefix"
