"""Password policy and argon2id hashing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from souk_auth.passwords import Passwords, password_problem


@pytest.mark.parametrize(
    "password",
    [
        "souk-demo-password",
        "correct-Horse-battery",
        "Twelve chars",
        "ünïcödé-Pässwort",
        "A1" * 64,
    ],
)
def test_acceptable_passwords(password):
    assert password_problem(password) is None


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("", "at least 12"),
        ("Short-pw1", "at least 12"),
        ("a" * 12, "mix at least two"),
        ("ABCDEFGHIJKLMNOP", "mix at least two"),
        ("123456789012", "mix at least two"),
        ("!!!!!!!!!!!!!!", "mix at least two"),
        ("A1" * 64 + "x", "at most 128"),
        ("Password1234", "too common"),
        ("QWERTY123456", "too common"),
    ],
)
def test_refused_passwords(password, problem):
    assert problem in (password_problem(password) or "")


def test_password_must_not_contain_the_email_name():
    assert "email" in (password_problem("xX-margarethe-Xx", "Margarethe@souk.test") or "")
    # Short local parts are not a useful signal.
    assert password_problem("bob-the-builder-9", "bob@souk.test") is None


def test_length_is_counted_after_normalisation():
    # "ﬁ" (one ligature character) normalises to "fi" under NFKC.
    assert password_problem("ﬁ" * 6) is not None
    assert password_problem("ﬁ" * 5 + "-x") is None


@pytest.fixture
def passwords() -> Passwords:
    return Passwords(time_cost=1, memory_cost_kib=1024, parallelism=1, concurrency=2)


async def test_hash_is_argon2id_and_verifies(passwords):
    hashed = await passwords.hash("correct-Horse-battery")
    assert hashed.startswith("$argon2id$")
    assert "correct-Horse-battery" not in hashed
    assert await passwords.verify(hashed, "correct-Horse-battery")
    assert not await passwords.verify(hashed, "correct-horse-battery")


async def test_unknown_user_verification_fails_but_does_the_work(passwords):
    assert not await passwords.verify(None, "anything-at-all-1")
    assert passwords._dummy_hash is not None  # a real hash was computed and checked


async def test_corrupt_hash_fails_closed(passwords):
    assert not await passwords.verify("not-a-hash", "correct-Horse-battery")
    assert passwords.needs_rehash("not-a-hash")


async def test_needs_rehash_when_parameters_change(passwords):
    current = await passwords.hash("correct-Horse-battery")
    older = PasswordHasher(time_cost=2, memory_cost=1024, parallelism=1).hash("x")
    assert not passwords.needs_rehash(current)
    assert passwords.needs_rehash(older)


async def test_normalised_forms_verify_alike(passwords):
    hashed = await passwords.hash("ﬁne-Password-1")
    assert await passwords.verify(hashed, "fine-Password-1")
