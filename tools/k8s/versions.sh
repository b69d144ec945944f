# Pinned versions of the local cluster's parts (sourced by tools/k8s/*.sh). The Go modules'
# versions are in tools/k8s/components/go.mod and tools/k8s/keda/go.mod and must agree.
# shellcheck disable=SC2034
kubernetes_version="1.35.4"
keda_version="2.20.2"
helmfile_version="v1.8.0"
pause_version="3.10.1" # the sandbox image Kubernetes 1.35's kubelet and containerd expect
pause_image="registry.k8s.io/pause:$pause_version"
ebb_image="docker.io/library/ebb:$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$root/deploy/helm/ebb/Chart.yaml")"
debian_mirror="${EBB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
