"""Journey tests: the same code runs against the local stack and a kind cluster."""
