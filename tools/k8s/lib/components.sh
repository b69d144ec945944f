# Starting the cluster's components, each one waited for until it serves. Sourced by
# tools/k8s/cluster.sh, which sets dir, bin, images, bridge, node_ip, pod_cidr, service_cidr,
# node_name.

kubectl_() { "$bin/kubectl" --kubeconfig "$dir/pki/admin.kubeconfig" "$@"; }

# The pods' bridge, made here (not by the CNI plugin) so that the node address exists before the
# API server and the broker listen on it. No forwarding and no masquerading: pods reach this
# machine's own addresses only.
network_up() {
  ip link add "$bridge" type bridge
  ip addr add "$node_ip/${pod_cidr#*/}" dev "$bridge"
  ip link set "$bridge" up
  mkdir -p "$dir/cni/net.d"
  cat >"$dir/cni/net.d/10-ebb.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "ebb",
  "plugins": [
    {
      "type": "bridge", "bridge": "$bridge", "isGateway": true, "ipMasq": false, "hairpinMode": true,
      "ipam": {
        "type": "host-local", "ranges": [[{"subnet": "$pod_cidr", "gateway": "$node_ip"}]],
        "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$dir/cni/ipam"
      }
    },
    {"type": "loopback"}
  ]
}
EOF
}

network_down() {
  ip link del "$bridge" 2>/dev/null || true
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '/^cni-/ {print $1}'); do
    ip netns pids "$ns" 2>/dev/null | grep -q . || ip netns del "$ns" 2>/dev/null || true
  done
}

# Every port the cluster listens on, free now (the API server's on the node address).
choose_ports() {
  read -r etcd_port etcd_peer_port cm_port sched_port kubelet_healthz_port keda_grpc_port \
    keda_metrics_port keda_health_port keda_adapter_port proxy_metrics_port proxy_healthz_port \
    dns_health_port dns_ready_port <<<"$(free_ports 13)"
  read -r apiserver_port kubelet_port keda_api_port <<<"$(free_ports 3 "$node_ip")"
}

start_etcd() {
  launch etcd "$bin/etcd" --name ebb --data-dir "$dir/etcd" \
    --listen-client-urls "http://127.0.0.1:$etcd_port" --advertise-client-urls "http://127.0.0.1:$etcd_port" \
    --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
    --initial-cluster "ebb=http://127.0.0.1:$etcd_peer_port" --log-level warn
  await etcd "serving" curl -fsS "http://127.0.0.1:$etcd_port/health"
}

start_apiserver() {
  local pki="$dir/pki"
  launch kube-apiserver "$bin/kube-apiserver" \
    --etcd-servers "http://127.0.0.1:$etcd_port" \
    --bind-address "$node_ip" --advertise-address "$node_ip" --secure-port "$apiserver_port" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" --authorization-mode Node,RBAC --allow-privileged=true \
    --service-cluster-ip-range "$service_cidr" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$pki/service-account.pub" \
    --service-account-signing-key-file "$pki/service-account.key" \
    --kubelet-client-certificate "$pki/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$pki/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$pki/ca.crt" --kubelet-preferred-address-types InternalIP \
    --requestheader-client-ca-file "$pki/front-proxy-ca.crt" \
    --requestheader-allowed-names front-proxy-client --requestheader-username-headers X-Remote-User \
    --requestheader-group-headers X-Remote-Group --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$pki/front-proxy-client.crt" \
    --proxy-client-key-file "$pki/front-proxy-client.key" --enable-aggregator-routing=true
  await kube-apiserver "ready" kubectl_ get --raw /readyz
}

start_control_plane() {
  start_etcd
  start_apiserver
  local pki="$dir/pki"
  launch kube-controller-manager "$bin/kube-controller-manager" \
    --kubeconfig "$pki/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$pki/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$pki/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$cm_port" --leader-elect=false \
    --use-service-account-credentials=true --service-account-private-key-file "$pki/service-account.key" \
    --root-ca-file "$pki/ca.crt" --cluster-signing-cert-file "$pki/ca.crt" \
    --cluster-signing-key-file "$pki/ca.key" --service-cluster-ip-range "$service_cidr" \
    --controllers '*,-nodeipam,-cloud-node-lifecycle,-bootstrapsigner,-tokencleaner'
  launch kube-scheduler "$bin/kube-scheduler" --kubeconfig "$pki/scheduler.kubeconfig" \
    --authentication-kubeconfig "$pki/scheduler.kubeconfig" \
    --authorization-kubeconfig "$pki/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port "$sched_port" --leader-elect=false
  await kube-controller-manager "healthy" curl -fsSk "https://127.0.0.1:$cm_port/healthz"
  await kube-scheduler "healthy" curl -fsSk "https://127.0.0.1:$sched_port/healthz"
  # The default ServiceAccount in default is the controller-manager's first sign of life.
  await kube-controller-manager "making service accounts" kubectl_ get serviceaccount default
}

# True when this process may not lower its oom_score_adj (no CAP_SYS_RESOURCE).
oom_score_restricted() {
  local caps
  caps="$(awk '/^CapEff:/ {print $2}' /proc/self/status)"
  (((0x$caps >> 24) & 1)) && return 1
  return 0
}

start_containerd() {
  local c="$dir/containerd" restrict_oom=false
  mkdir -p "$c"
  oom_score_restricted && restrict_oom=true
  cat >"$dir/config/containerd.toml" <<EOF
version = 2
root = "$c/root"
state = "$c/state"
[grpc]
  address = "$c/containerd.sock"
[ttrpc]
  address = "$c/containerd.sock.ttrpc"
[plugins."io.containerd.internal.v1.opt"]
  path = "$c/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$pause_image"
  # Root here may lack CAP_SYS_RESOURCE (this machine's does): then nothing may lower an
  # oom_score_adj, which the sandboxes (-998) and Guaranteed pods (-997) ask for. Containers get
  # no lower a score than containerd's own.
  restrict_oom_score_adj = $restrict_oom
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "$c/runc"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$dir/cni/net.d"
EOF
  launch containerd containerd --config "$dir/config/containerd.toml"
  await containerd "serving" ctr --address "$c/containerd.sock" version
  local image
  for image in pause ebb; do
    ctr --address "$c/containerd.sock" -n k8s.io images import "$images/$image.tar" \
      >>"$dir/logs/images.log" 2>&1 || fail_component containerd "cannot import $images/$image.tar"
  done
}

start_kubelet() {
  local pki="$dir/pki"
  cat >"$dir/config/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $node_ip
port: $kubelet_port
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $kubelet_healthz_port
tlsCertFile: $pki/kubelet.crt
tlsPrivateKeyFile: $pki/kubelet.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $pki/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$dir/containerd/containerd.sock
# This machine mounts cgroup v1 controllers; Kubernetes 1.35's kubelet refuses them by default.
failCgroupV1: false
cgroupDriver: cgroupfs
failSwapOn: false
oomScoreAdj: $(oom_score_restricted && echo 0 || echo -999)
resolvConf: /etc/resolv.conf
clusterDNS: [$node_ip]
clusterDomain: cluster.local
podCIDR: $pod_cidr
maxPods: 60
serializeImagePulls: false
imageGCHighThresholdPercent: 100
evictionHard: {memory.available: "100Mi", nodefs.available: "1%", imagefs.available: "1%"}
syncFrequency: 10s
fileCheckFrequency: 0s
EOF
  launch kubelet "$bin/kubelet" --config "$dir/config/kubelet.yaml" \
    --kubeconfig "$pki/node.kubeconfig" --root-dir "$dir/kubelet" \
    --hostname-override "$node_name" --node-ip "$node_ip" --v 1
  await kubelet "registered and Ready" \
    bash -c "[ \"\$(\"$bin/kubectl\" --kubeconfig \"$pki/admin.kubeconfig\" get node $node_name -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}')\" = True ]"
}

# The cluster's DNS on the node address (port 53): Services' names for pods and for KEDA.
start_dns() {
  port_is_free 53 "$node_ip" || die "port 53 on $node_ip is taken: the cluster's DNS cannot listen"
  cat >"$dir/config/Corefile" <<EOF
.:53 {
    bind $node_ip
    errors
    health 127.0.0.1:$dns_health_port
    ready 127.0.0.1:$dns_ready_port
    kubernetes cluster.local in-addr.arpa ip6.arpa {
        kubeconfig $dir/pki/admin.kubeconfig ebb
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loop
    forward . /etc/resolv.conf
}
EOF
  # What a pod's resolv.conf says, for KEDA's processes (start_keda).
  printf 'nameserver %s\nsearch keda.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n' \
    "$node_ip" >"$dir/config/resolv.conf"
  launch coredns "$bin/coredns" -conf "$dir/config/Corefile"
  await coredns "ready" curl -fsS "http://127.0.0.1:$dns_ready_port/ready"
}

# Services' cluster IPs for this machine's own processes (KEDA): kube-proxy's iptables rules.
# Forwarding stays off (net.ipv4.ip_forward): nothing is routed between interfaces, so a pod reaches
# a Service by a headless Service's name or through this machine's own addresses.
start_proxy() {
  cat >"$dir/config/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $dir/pki/kube-proxy.kubeconfig}
mode: iptables
clusterCIDR: $pod_cidr
hostnameOverride: $node_name
bindAddress: $node_ip
healthzBindAddress: 127.0.0.1:$proxy_healthz_port
metricsBindAddress: 127.0.0.1:$proxy_metrics_port
nodePortAddresses: [$node_ip/32]
conntrack: {maxPerCore: 0}
iptables: {localhostNodePorts: false}
EOF
  launch kube-proxy "$bin/kube-proxy" --config "$dir/config/kube-proxy.yaml"
  await kube-proxy "healthy" curl -fsS "http://127.0.0.1:$proxy_healthz_port/healthz"
}

# kube-proxy's iptables chains, removed by kube-proxy itself; then the kubelet's own (its canary,
# KUBE-FIREWALL), unless another kubelet or kube-proxy runs on this machine and may own them.
iptables_cleanup() {
  if [ -x "$bin/kube-proxy" ] && [ -f "$dir/config/kube-proxy.yaml" ]; then
    "$bin/kube-proxy" --cleanup >>"$dir/logs/kube-proxy-cleanup.log" 2>&1 || true
  fi
  pgrep -x kubelet >/dev/null || pgrep -x kube-proxy >/dev/null && return 0
  local cmd table rule chain
  for cmd in iptables ip6tables; do
    command -v "$cmd" >/dev/null || continue
    for table in filter nat mangle; do
      { "$cmd" -t "$table" -S 2>/dev/null | grep -E '^-A [A-Z]+ .*-j KUBE-' || true; } |
        sed 's/^-A /-D /' | while read -r rule; do eval "$cmd -t $table $rule" 2>/dev/null || true; done
      for chain in $("$cmd" -t "$table" -S 2>/dev/null | awk '/^-N KUBE-/ {print $2}'); do
        "$cmd" -t "$table" -F "$chain" 2>/dev/null || true
      done
      for chain in $("$cmd" -t "$table" -S 2>/dev/null | awk '/^-N KUBE-/ {print $2}'); do
        "$cmd" -t "$table" -X "$chain" 2>/dev/null || true
      done
    done
  done
}

start_node() {
  start_containerd
  start_kubelet
  start_proxy
}

keda_module() {
  GOMODCACHE="$EBB_CACHE/k8s/gomod" GOFLAGS=-modcacherw GOTOOLCHAIN=local \
    "$("$root/scripts/go-toolchain.sh")" mod download -json "github.com/kedacore/keda/v2@v$keda_version" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["Dir"])'
}

# The external metrics API as KEDA's own config/metrics-server registers it, pointing at the adapter
# on the node address (a Service without selector and its EndpointSlice: the API server routes to
# the endpoint, --enable-aggregator-routing).
register_keda_apiservice() {
  local ca
  ca="$(base64 -w0 "$dir/pki/ca.crt")"
  kubectl_ apply -f - >>"$dir/logs/keda-setup.log" 2>&1 <<EOF
apiVersion: v1
kind: Service
metadata: {name: keda-metrics-apiserver, namespace: keda}
spec:
  ports: [{name: https, port: 443, targetPort: $keda_api_port}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: keda-metrics-apiserver-host
  namespace: keda
  labels: {kubernetes.io/service-name: keda-metrics-apiserver}
addressType: IPv4
ports: [{name: https, port: $keda_api_port, protocol: TCP}]
endpoints: [{addresses: ["$node_ip"], conditions: {ready: true}}]
---
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1beta1.external.metrics.k8s.io}
spec:
  service: {name: keda-metrics-apiserver, namespace: keda, port: 443}
  group: external.metrics.k8s.io
  version: v1beta1
  caBundle: $ca
  groupPriorityMinimum: 100
  versionPriority: 100
EOF
}

# KEDA's operator and metrics API server as processes of this machine, with the admin identity and
# certificate rotation off (the certificates are made by make_pki).
start_keda() {
  local module pki="$dir/pki"
  module="$(keda_module)"
  kubectl_ apply --server-side -f "$module/config/crd/bases" >"$dir/logs/keda-setup.log" 2>&1 ||
    fail_component keda-setup "cannot apply KEDA's CRDs"
  kubectl_ create namespace keda >>"$dir/logs/keda-setup.log" 2>&1 ||
    fail_component keda-setup "cannot create namespace keda"
  # In a mount namespace of their own whose /etc/resolv.conf names the cluster's DNS, as a pod's
  # does: KEDA dials Services (an external scaler) by their cluster names.
  local -a env=(unshare --mount --propagation private sh -c
    'mount --bind "$0" /etc/resolv.conf && exec "$@"' "$dir/config/resolv.conf"
    env WATCH_NAMESPACE= POD_NAMESPACE=keda KEDA_CLUSTER_OBJECT_NAMESPACE=keda)
  launch keda-operator "${env[@]}" "$bin/keda/operator" --kubeconfig "$pki/admin.kubeconfig" \
    --cert-dir "$pki/keda" --metrics-service-bind-address "127.0.0.1:$keda_grpc_port" \
    --metrics-bind-address "127.0.0.1:$keda_metrics_port" \
    --health-probe-bind-address "127.0.0.1:$keda_health_port" --zap-encoder console
  await keda-operator "healthy" curl -fsS "http://127.0.0.1:$keda_health_port/readyz"
  launch keda-adapter "${env[@]}" "$bin/keda/adapter" --kubeconfig "$pki/admin.kubeconfig" \
    --lister-kubeconfig "$pki/admin.kubeconfig" --authentication-kubeconfig "$pki/admin.kubeconfig" \
    --authorization-kubeconfig "$pki/admin.kubeconfig" --bind-address "$node_ip" \
    --secure-port "$keda_api_port" --tls-cert-file "$pki/keda/tls.crt" \
    --tls-private-key-file "$pki/keda/tls.key" --cert-dir "$pki/keda" \
    --metrics-service-address "127.0.0.1:$keda_grpc_port" --port "$keda_adapter_port" --zap-encoder console
  register_keda_apiservice || fail_component keda-setup "cannot register the external metrics API"
  await keda-adapter "serving the external metrics API" \
    kubectl_ get --raw /apis/external.metrics.k8s.io/v1beta1
}
