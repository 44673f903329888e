"""The package's public face: every re-export resolves, and light imports stay light."""

import subprocess
import sys

import souk_common


def test_every_reexport_resolves():
    for name in souk_common.__all__:
        assert getattr(souk_common, name) is not None, name


def test_importing_logging_does_not_load_the_web_stack():
    code = (
        "import sys, souk_common.logging, souk_common.provisioning;"
        "heavy = ('fastapi', 'sqlalchemy');"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
