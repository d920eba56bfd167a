"""Helpers of the API tests: accounts with roles and tokens, the fast hasher."""

from __future__ import annotations

from argon2 import PasswordHasher

from app.accounts import CLI_ADMIN, Accounts, AddAccount, GrantRole, IssueToken
from config.settings import Settings
from domain.accounts import StandingRole, TokenScope
from storage.directory import DirectoryStore
from storage.eventlog import EventStore

FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"
BASE = "https://testserver"


class LocalContext:
    """What the API needs of an application context, over one database."""

    def __init__(self, settings: Settings, engine) -> None:
        self.settings = settings
        self.engine = engine
        self.events = EventStore(engine)
        self.directory = DirectoryStore(engine)

    async def temporal(self):
        """No engine behind this context: what a context says when Temporal does not answer."""
        from app.context import unavailable

        raise unavailable(self.settings)

    def close(self) -> None:
        self.engine.dispose()


def person(accounts: Accounts, person_id: str, *grants: tuple[StandingRole, str | None]) -> None:
    accounts.add_account(CLI_ADMIN, AddAccount(person_id=person_id, password=PASSWORD))
    for role, scope in grants:
        accounts.grant(CLI_ADMIN, GrantRole(person_id=person_id, role=role, scope=scope))


def token(accounts: Accounts, person_id: str, scopes=tuple(TokenScope), days: float = 30) -> str:
    return accounts.issue_token(CLI_ADMIN, IssueToken(person_id=person_id, name="test", scopes=tuple(scopes), days=days)).secret
