#!/usr/bin/env bash
# Installs everything ebb needs to build, test and run on a fresh Debian bookworm machine.
# Idempotent and quick when everything is already there:
#   1. Debian packages (apt) — skipped when all are installed;
#   2. librdkafka 2.15.1 built from its official source into .cache/librdkafka — skipped when cached;
#   3. Apache Kafka's jars from Maven Central into .cache/kafka — skipped when cached;
#   4. a Go toolchain >= 1.26 (the machine's, else Go's own from the module proxy into
#      .cache/go-toolchain) and tools/share-admin's modules (scripts/go-toolchain.sh).
# `bootstrap.sh apt` does step 1 only; `bootstrap.sh build` installs only what a release build of the
# binary needs (steps 1 and 2, without test and tooling packages): deploy/docker/Dockerfile runs it.
# `bootstrap.sh k8s` installs only the local Kubernetes cluster's packages (step 1 has them too).
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"

# What the build, the tests and the demo need. Tooling (clang-format, clang-tidy) is here too so that
# CI's format check runs on a fresh machine.
apt_packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  libgtest-dev libgmock-dev libbenchmark-dev
  prometheus-cpp-dev libcpp-httplib-dev libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libssl-dev libsasl2-dev libzstd-dev liblz4-dev zlib1g-dev libgoogle-perftools-dev
  openjdk-17-jdk-headless maven npm
  clang-format clang-tidy clang-14 libclang-rt-14-dev
  python3 procps iproute2 time
  prometheus python3-jsonschema python3-yaml
  gnuplot-nox chromium
)
# The local Kubernetes cluster's runtime and image tools (tools/k8s; tests/k8s): Debian's containerd,
# runc and CNI plugins, iptables for kube-proxy, buildah and debootstrap for the images.
k8s_packages=(containerd runc containernetworking-plugins iptables buildah debootstrap openssl)
# Only for tests, benchmarks and the demo report (gnuplot draws charts, headless chromium checks the
# report), formatting, fuzzing (clang's libFuzzer), the local broker and the deployment checks: `bootstrap.sh build` (the
# container image's build stage) skips them.
dev_only_packages=(
  libgtest-dev libgmock-dev libbenchmark-dev openjdk-17-jdk-headless maven clang-format clang-tidy
  clang-14 libclang-rt-14-dev git procps iproute2 time prometheus python3-jsonschema python3-yaml gnuplot-nox chromium
)

install_apt_packages() {  # PACKAGE...
  local missing=()
  local pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  # A JDK (javac: tests run Kafka's Java code), Maven and npm may come from elsewhere (an SDK
  # manager); then the Debian packages are not needed.
  if command -v javac >/dev/null && command -v mvn >/dev/null && command -v npm >/dev/null; then
    local filtered=()
    for pkg in "${missing[@]}"; do
      case "$pkg" in openjdk-17-jdk-headless | maven | npm) ;; *) filtered+=("$pkg") ;; esac
    done
    missing=("${filtered[@]}")
  fi
  if [ "${#missing[@]}" -eq 0 ]; then
    log "apt: all $# packages present"
    return
  fi
  log "apt: installing ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

main() {
  local what="${1:-all}"
  case "$what" in
    all)
      install_apt_packages "${apt_packages[@]}" "${k8s_packages[@]}"
      "$root/scripts/build-librdkafka.sh"
      "$root/tools/kafka/kafka.sh" fetch
      "$root/scripts/go-toolchain.sh" >/dev/null
      ;;
    apt) install_apt_packages "${apt_packages[@]}" ;;
    k8s) install_apt_packages "${k8s_packages[@]}" ;;
    build)
      local build_packages=() pkg
      for pkg in "${apt_packages[@]}"; do
        [[ " ${dev_only_packages[*]} " == *" $pkg "* ]] || build_packages+=("$pkg")
      done
      install_apt_packages "${build_packages[@]}"
      "$root/scripts/build-librdkafka.sh"
      "$root/scripts/go-toolchain.sh" >/dev/null
      ;;
    *) die "usage: bootstrap.sh [all|apt|build]" ;;
  esac
}

main "$@"
