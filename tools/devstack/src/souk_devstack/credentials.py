"""Generated database passwords of the local stack, kept so that re-runs change nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

from souk_common.provisioning import generate_password


class CredentialStore:
    """A JSON file (mode 0600) mapping a database role to its generated password."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        data: dict[str, str] = json.loads(self.path.read_text())
        return data

    def password_for(self, role: str) -> str:
        """Return the stored password of ``role``, generating and storing one if new."""
        passwords = self._load()
        if role not in passwords:
            passwords[role] = generate_password()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_suffix(".tmp")
            temporary.write_text(json.dumps(passwords, indent=2, sort_keys=True))
            os.chmod(temporary, 0o600)
            temporary.replace(self.path)
        return passwords[role]

    def forget(self, role: str) -> None:
        """Remove ``role``'s password (after its database was dropped)."""
        passwords = self._load()
        if passwords.pop(role, None) is not None:
            self.path.write_text(json.dumps(passwords, indent=2, sort_keys=True))
