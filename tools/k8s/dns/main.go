// The cluster's DNS: CoreDNS with the plugins a Kubernetes cluster's DNS uses (its kubernetes
// plugin answers *.svc.cluster.local from the API server; forward sends the rest to this machine's
// resolver), built from CoreDNS's own module with a plugin set of its own, as CoreDNS's plugin.cfg
// does (its core/plugin package would import every plugin and its cloud SDKs).
package main

import (
	_ "github.com/coredns/coredns/core/dnsserver" // the DNS server type; its directive order
	"github.com/coredns/coredns/coremain"

	_ "github.com/coredns/coredns/plugin/bind"
	_ "github.com/coredns/coredns/plugin/cache"
	_ "github.com/coredns/coredns/plugin/errors"
	_ "github.com/coredns/coredns/plugin/forward"
	_ "github.com/coredns/coredns/plugin/health"
	_ "github.com/coredns/coredns/plugin/kubernetes"
	_ "github.com/coredns/coredns/plugin/loop"
	_ "github.com/coredns/coredns/plugin/ready"
)

func main() { coremain.Run() }
