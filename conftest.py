"""Root pytest configuration: Souk's shared fixtures for every package's tests."""

pytest_plugins = ["tests.support.fixtures"]
