"""Packaging checks: the Dockerfile, its build context, skaffold, Tilt and the kind setup."""
