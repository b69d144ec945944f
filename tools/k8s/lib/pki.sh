# The cluster's certificates and kubeconfigs, made at every start with openssl (nothing is reused
# across runs). Sourced by tools/k8s/cluster.sh, which sets dir, node_ip, node_name.

# new_ca NAME CN: a self-signed CA in DIR/pki/NAME.{crt,key}.
new_ca() {
  local pki="$dir/pki"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$2" \
    -keyout "$pki/$1.key" -out "$pki/$1.crt" 2>/dev/null
}

# new_cert NAME CA SUBJECT USAGE [SANS]: a key and a certificate signed by CA; USAGE is serverAuth,
# clientAuth or both; SANS like "IP:10.223.0.1,DNS:kubernetes".
new_cert() {
  local name="$1" ca="$2" subject="$3" usage="$4" sans="${5:-}" pki="$dir/pki"
  local ext="$pki/$name.ext"
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [ -z "$sans" ] || echo "subjectAltName=$sans"
  } >"$ext"
  openssl req -new -newkey rsa:2048 -nodes -subj "$subject" \
    -keyout "$pki/$name.key" -out "$pki/$name.csr" 2>/dev/null
  openssl x509 -req -in "$pki/$name.csr" -CA "$pki/$ca.crt" -CAkey "$pki/$ca.key" -CAcreateserial \
    -days 2 -extfile "$ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$ext"
}

# kubeconfig NAME SERVER: DIR/pki/NAME.kubeconfig for the client certificate NAME.
kubeconfig() {
  local name="$1" server="$2" pki="$dir/pki"
  cat >"$pki/$name.kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: ebb
  cluster:
    certificate-authority: $pki/ca.crt
    server: $server
users:
- name: $name
  user:
    client-certificate: $pki/$name.crt
    client-key: $pki/$name.key
contexts:
- name: ebb
  context: {cluster: ebb, user: $name}
current-context: ebb
EOF
}

make_pki() {
  local pki="$dir/pki"
  mkdir -p "$pki"
  chmod 700 "$pki"
  new_ca ca "ebb-k8s-ca"
  new_ca front-proxy-ca "ebb-k8s-front-proxy-ca"
  local api_sans="IP:$node_ip,IP:127.0.0.1,IP:${service_cidr%.0/*}.1,DNS:localhost,DNS:kubernetes"
  api_sans+=",DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  new_cert apiserver ca "/CN=kube-apiserver" serverAuth "$api_sans"
  new_cert apiserver-kubelet-client ca "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
  new_cert front-proxy-client front-proxy-ca "/CN=front-proxy-client" clientAuth
  new_cert kubelet ca "/CN=$node_name" serverAuth "IP:$node_ip,DNS:$node_name"
  # The components' own identities: the API server's bootstrap RBAC roles name them.
  new_cert admin ca "/O=system:masters/CN=ebb-admin" clientAuth
  new_cert controller-manager ca "/CN=system:kube-controller-manager" clientAuth
  new_cert scheduler ca "/CN=system:kube-scheduler" clientAuth
  new_cert node ca "/O=system:nodes/CN=system:node:$node_name" clientAuth
  new_cert kube-proxy ca "/CN=system:kube-proxy" clientAuth
  # KEDA's operator and metrics server run with the admin identity (as cluster-admin would), and
  # their gRPC link and the metrics API use a certificate for their in-cluster names.
  # The API server's aggregator checks keda-metrics-apiserver.keda.svc; the adapter dials the
  # operator's gRPC service at 127.0.0.1.
  new_cert keda ca "/CN=keda-operator" "serverAuth,clientAuth" \
    "IP:127.0.0.1,IP:$node_ip,DNS:keda-operator.keda.svc.cluster.local,DNS:keda-metrics-apiserver.keda.svc"
  mkdir -p "$pki/keda"
  cp "$pki/ca.crt" "$pki/keda/ca.crt"
  mv "$pki/keda.crt" "$pki/keda/tls.crt"
  mv "$pki/keda.key" "$pki/keda/tls.key"
  openssl genrsa -out "$pki/service-account.key" 2048 2>/dev/null
  openssl rsa -in "$pki/service-account.key" -pubout -out "$pki/service-account.pub" 2>/dev/null
  local name
  for name in admin controller-manager scheduler node kube-proxy; do
    kubeconfig "$name" "https://$node_ip:$apiserver_port"
  done
}
