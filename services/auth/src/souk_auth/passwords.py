"""Password policy and argon2id hashing.

Policy (checked on registration; login accepts whatever was once accepted):

* 12 to 128 characters after Unicode NFKC normalisation (length matters most: NIST SP
  800-63B); the upper bound keeps hashing cost bounded;
* characters from at least two classes of lower case, upper case, digits and others, so
  "aaaaaaaaaaaa" and "123456789012" are refused;
* not one of a short list of notorious passwords, and not containing the name part of the
  account's own email address.

Hashing runs argon2id in a worker thread so the event loop keeps serving, with a semaphore
bounding how many hashes (each holding ``memory_cost`` of RAM) run at once. Verifying an
unknown account's password against a dummy hash makes a wrong email cost the same time as a
wrong password, so response timing does not reveal which emails exist.
"""

from __future__ import annotations

import asyncio
import secrets
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from souk_auth.config import AuthSettings

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_CHARACTER_CLASSES = 2
_NOTORIOUS = frozenset(
    {
        "password1234",
        "password12345",
        "password123456",
        "passwordpassword",
        "qwertyuiop123",
        "qwerty123456",
        "123456789abc",
        "abc123456789",
        "iloveyou1234",
        "letmein12345",
        "welcome12345",
        "changeme1234",
    }
)


def normalise_password(password: str) -> str:
    """Return the NFKC form hashed and verified, so equivalent inputs match everywhere."""
    return unicodedata.normalize("NFKC", password)


def _character_classes(password: str) -> int:
    classes = (
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    return sum(classes)


def password_problem(password: str, email: str | None = None) -> str | None:
    """Return why ``password`` breaks the policy, or ``None`` when it is acceptable."""
    password = normalise_password(password)
    if len(password) < MIN_LENGTH:
        return f"must be at least {MIN_LENGTH} characters long"
    if len(password) > MAX_LENGTH:
        return f"must be at most {MAX_LENGTH} characters long"
    if _character_classes(password) < MIN_CHARACTER_CLASSES:
        return "must mix at least two of: lower case, upper case, digits, other characters"
    if password.lower() in _NOTORIOUS:
        return "is too common"
    if email:
        name = email.partition("@")[0].lower()
        if len(name) >= 4 and name in password.lower():
            return "must not contain your email address"
    return None


class Passwords:
    """Hashes and verifies passwords with argon2id without blocking the event loop."""

    def __init__(
        self,
        *,
        time_cost: int = 3,
        memory_cost_kib: int = 64 * 1024,
        parallelism: int = 4,
        concurrency: int = 4,
    ) -> None:
        self.hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
        )
        self._slots = asyncio.Semaphore(concurrency)
        self._dummy_hash: str | None = None

    @classmethod
    def from_settings(cls, settings: AuthSettings) -> Passwords:
        """Build the hasher with the cost parameters of ``settings``."""
        return cls(
            time_cost=settings.argon2_time_cost,
            memory_cost_kib=settings.argon2_memory_cost_kib,
            parallelism=settings.argon2_parallelism,
            concurrency=settings.password_hash_concurrency,
        )

    async def hash(self, password: str) -> str:
        """Return the argon2id hash (PHC string) of ``password``."""
        async with self._slots:
            return await asyncio.to_thread(self.hasher.hash, normalise_password(password))

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """Check ``password`` against ``password_hash``; ``None`` burns the same time, fails."""
        if password_hash is None:
            password_hash = await self._dummy()
            await self._verify(password_hash, password)
            return False
        return await self._verify(password_hash, password)

    async def _verify(self, password_hash: str, password: str) -> bool:
        async with self._slots:
            try:
                return await asyncio.to_thread(
                    self.hasher.verify, password_hash, normalise_password(password)
                )
            except (VerificationError, InvalidHashError):
                return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether ``password_hash`` was made with other parameters than the current ones."""
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    async def _dummy(self) -> str:
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        return self._dummy_hash
