"""Audit tests reuse the event-log builders (tests/storage) and the domain's
review driver (tests/domain), by their folder on sys.path, as pytest's prepend
import mode does for a test's own folder."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from storage.signing import Signer

TESTS = Path(__file__).resolve().parent.parent
for folder in ("storage", "domain"):
    if str(TESTS / folder) not in sys.path:
        sys.path.insert(0, str(TESTS / folder))

TEST_KEY = "audit-test-signing-key"


@pytest.fixture
def signer() -> Signer:
    return Signer(TEST_KEY)
