"""Root pytest configuration: Souk's shared fixtures for every package's tests."""

pytest_plugins = ["souk_common.testing"]
