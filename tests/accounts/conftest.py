"""Account tests hash with argon2id at the cheapest cost: the algorithm and code paths
are the real ones, the production cost (64 MiB, t=3, ~0.7 s here) is checked once in
test_accounts.py::test_production_hash_parameters."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, profiles

from longpan.accounts import passwords, users


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    monkeypatch.setattr(passwords, "hasher", lambda: cheap)
    users._dummy_hash.cache_clear()
