#!/usr/bin/env bash
# Builds what the local Kubernetes cluster runs (tools/k8s/cluster.sh), from the components' own code
# at pinned versions, cached under .cache/k8s so that the second run takes seconds:
#
#   build.sh components   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubelet,
#                         kube-proxy and kubectl (tools/k8s/components: k8s.io/kubernetes v1.35.4),
#                         CoreDNS (tools/k8s/dns: v1.14.7, the cluster's DNS), KEDA's operator and
#                         metrics API server (tools/k8s/keda: KEDA v2.20.2), helmfile
#                         (tools/k8s/helmfile: v1.8.0)
#   build.sh images       the pause image (Kubernetes' own build/pause/linux/pause.c), and the ebb
#                         image from deploy/docker/Dockerfile with buildah; its base images are made
#                         with debootstrap (Debian bookworm) and tagged as the Dockerfile's FROMs
#   build.sh all          both (default)
#
# Prints nothing on success but progress lines; a failed step names itself and shows its log tail.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tools/k8s"
# shellcheck source=scripts/lib.sh
source "$root/scripts/lib.sh"
# shellcheck source=tools/k8s/versions.sh
source "$here/versions.sh"

cache="$EBB_CACHE/k8s"
bin="$cache/bin"
images="$cache/images"

# logged NAME COMMAND...: runs it with its output in $cache/logs/NAME.log, shown when it fails.
logged() {
  local name="$1"
  shift
  mkdir -p "$cache/logs"
  "$@" >"$cache/logs/$name.log" 2>&1 || {
    log "---- last lines of $cache/logs/$name.log ----"
    tail -n 30 "$cache/logs/$name.log" >&2
    die "$name failed"
  }
}

# The Go environment of both modules: the project's own caches, the module proxy's pinned versions.
go_env() {
  go="$("$root/scripts/go-toolchain.sh")"
  export GOMODCACHE="$cache/gomod" GOCACHE="$cache/gocache" GOFLAGS="-modcacherw -trimpath"
  export GOTOOLCHAIN=local CGO_ENABLED=0
}

# stamp_ok NAME FILE...: the build named NAME is cached for exactly these inputs.
stamp_ok() {
  local name="$1"
  shift
  [ -f "$cache/stamps/$name" ] && [ "$(cat "$cache/stamps/$name")" = "$(cat "$@" | sha256sum)" ]
}
stamp_write() {
  local name="$1"
  shift
  mkdir -p "$cache/stamps"
  cat "$@" | sha256sum >"$cache/stamps/$name"
}

# go_build NAME WHAT LDFLAGS OUTPUT TARGET...: builds TARGETs of tools/k8s/NAME's module into OUTPUT,
# once for every content of its go.mod, go.sum, Go files and versions.sh.
go_build() {
  local name="$1" what="$2" ldflags="$3" output="$4"
  shift 4
  local module="$here/$name"
  local -a inputs
  mapfile -t inputs < <(find "$module" -name '*.go' -o -name go.mod -o -name go.sum | sort)
  inputs+=("$here/versions.sh")
  stamp_ok "$name" "${inputs[@]}" && return
  log "k8s: building $what from its Go module (once)"
  local started=$SECONDS
  mkdir -p "$bin"
  [[ "$output" == */ ]] && mkdir -p "$output"
  (cd "$module" && logged "$name" nice -n 5 "$go" build -ldflags "-s -w $ldflags" -o "$output" "$@")
  stamp_write "$name" "${inputs[@]}"
  log "k8s: $what built in $((SECONDS - started)) s"
}

# What Kubernetes' own build stamps in; helm checks the chart's kubeVersion against it.
kubernetes_ldflags() {
  local pkg minor
  minor="$(cut -d. -f2 <<<"$kubernetes_version")"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    printf -- '-X %s.gitVersion=v%s -X %s.gitMajor=%s -X %s.gitMinor=%s -X %s.gitTreeState=clean ' \
      "$pkg" "$kubernetes_version" "$pkg" "${kubernetes_version%%.*}" "$pkg" "$minor" "$pkg"
  done
}

cmd_components() {
  go_env
  go_build components "Kubernetes v$kubernetes_version and etcd" "$(kubernetes_ldflags)" "$bin/" \
    tool ./etcd
  go_build dns "CoreDNS (the cluster's DNS)" "" "$bin/coredns" .
  go_build keda "KEDA $keda_version's operator and metrics server" \
    "-X github.com/kedacore/keda/v2/version.Version=$keda_version" "$bin/keda/" tool
  # The version ldflags helmfile's Makefile sets (the module has no commit to stamp).
  go_build helmfile "helmfile $helmfile_version" \
    "-X go.szostok.io/version.version=$helmfile_version -X go.szostok.io/version.dirtyBuild=false" \
    "$bin/helmfile" tool
}

# buildah with its storage in the project's cache (layers reused by the next build).
buildah_() {
  buildah --root "$cache/buildah/root" --runroot "$cache/buildah/run" --storage-driver overlay "$@"
}

# The pause image every pod's sandbox runs: Kubernetes' own pause.c, static, in an empty image.
build_pause() {
  local archive="$images/pause.tar"
  stamp_ok pause "$here/versions.sh" && [ -f "$archive" ] && return
  local src
  src="$(GOMODCACHE="$cache/gomod" "$go" mod download -json "k8s.io/kubernetes@v$kubernetes_version" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])')/build/pause/linux/pause.c"
  local work
  work="$(mktemp -d)"
  logged pause-gcc gcc -Os -static -Wall -Werror -DVERSION="v$pause_version-ebb" -o "$work/pause" "$src"
  strip "$work/pause"
  local ctr
  ctr="$(buildah_ from scratch)"
  buildah_ copy "$ctr" "$work/pause" /pause >/dev/null
  buildah_ config --entrypoint '["/pause"]' --user 65535:65535 "$ctr"
  mkdir -p "$images"
  rm -f "$archive"
  logged pause-commit buildah_ commit --rm "$ctr" "docker-archive:$archive:$pause_image"
  rm -rf "$work"
  stamp_write pause "$here/versions.sh"
}

# debian:bookworm and debian:bookworm-slim, the Dockerfile's FROMs: a debootstrap minbase of the
# same release from Debian's mirror (the official images are made the same way).
build_base() {
  local tag
  for tag in bookworm bookworm-slim; do
    buildah_ inspect --type image "docker.io/library/debian:$tag" >/dev/null 2>&1 && continue
    local rootfs="$cache/base/rootfs"
    if [ ! -f "$rootfs/.ebb-complete" ]; then
      log "k8s: debootstrap of Debian bookworm (once)"
      rm -rf "$rootfs"
      mkdir -p "$cache/base"
      logged debootstrap debootstrap --variant=minbase bookworm "$rootfs" "$debian_mirror"
      rm -rf "$rootfs/var/cache/apt/archives/"*.deb "$rootfs/var/lib/apt/lists/"*
      touch "$rootfs/.ebb-complete"
    fi
    local ctr
    ctr="$(buildah_ from scratch)"
    tar -C "$rootfs" --exclude=./.ebb-complete -cf "$cache/base/rootfs.tar" .
    buildah_ add "$ctr" "$cache/base/rootfs.tar" / >/dev/null
    buildah_ config --cmd bash --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$ctr"
    add_local_cas "$ctr"
    logged "base-$tag" buildah_ commit --rm "$ctr" "docker.io/library/debian:$tag"
    rm -f "$cache/base/rootfs.tar"
  done
}

# This machine's own CA certificates (/usr/local/share/ca-certificates: a TLS-intercepting egress
# proxy, a company CA), as an organization's base image carries them: the Dockerfile's build stage
# fetches sources over HTTPS and its `apt-get install ca-certificates` adds them to the system store.
# Node's npm reads only its own list unless NODE_EXTRA_CA_CERTS names the store.
add_local_cas() {  # CONTAINER
  compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null || return 0
  local cert
  for cert in /usr/local/share/ca-certificates/*.crt; do
    buildah_ copy "$1" "$cert" "/usr/local/share/ca-certificates/$(basename "$cert")" >/dev/null
  done
  buildah_ config --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "$1"
}

# The ebb image, from the Dockerfile users build with Docker. --layers: an unchanged step is reused.
build_ebb_image() {
  build_base
  log "k8s: building $ebb_image from deploy/docker/Dockerfile with buildah (the first build compiles ebb)"
  local started=$SECONDS
  logged ebb-image buildah_ bud --layers --isolation chroot --network host \
    -f "$root/deploy/docker/Dockerfile" -t "$ebb_image" "$root"
  mkdir -p "$images"
  rm -f "$images/ebb.tar"
  logged ebb-image-save buildah_ push "$ebb_image" "docker-archive:$images/ebb.tar:$ebb_image"
  log "k8s: $ebb_image built in $((SECONDS - started)) s"
}

cmd_images() {
  [ "$(id -u)" -eq 0 ] || die "building images with buildah needs root here"
  need buildah "install it: scripts/bootstrap.sh k8s"
  need debootstrap "install it: scripts/bootstrap.sh k8s"
  go_env
  build_pause
  build_ebb_image
}

case "${1:-all}" in
  components) cmd_components ;;
  images) cmd_images ;;
  all) cmd_components && cmd_images ;;
  *) die "usage: tools/k8s/build.sh [components|images|all]" ;;
esac
