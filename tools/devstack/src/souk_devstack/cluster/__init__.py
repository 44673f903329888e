"""A real single-node Kubernetes inside a network namespace: ``souk-cluster up`` / ``down``.

The node (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, containerd, kubelet,
kube-proxy and dnsmasq for cluster DNS) runs inside the network namespace ``souk-node``; the
host's network, iptables and forwarding are never touched. A node agent forwards ports on the
host's 127.0.0.1 into the namespace (the API server and each shop service) and keeps the
cluster DNS records in step with the Services. See docs/kubernetes-dev.md, "A real node".
"""
