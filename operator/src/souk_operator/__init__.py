"""Souk's kopf operator for the ``Marketplace`` custom resource.

The operator turns one ``Marketplace`` into what the services stand on. Its provisioning code
(databases, roles, streams, consumer groups) lives in :mod:`souk_common.provisioning` so that
the local stack runs exactly the same code without Kubernetes; this package adds the
Kubernetes side: the CRD, handlers, Secrets, status and events.
"""
