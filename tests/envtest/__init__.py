"""envtest: a real Kubernetes API server (etcd + kube-apiserver 1.20) for tests, no Docker."""
