"""``python -m souk_devstack.cluster``: the same as ``souk-cluster``."""

from souk_devstack.cluster.cli import main

main()
