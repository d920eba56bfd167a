"""Who is acting. The actor of every command is the principal's person id,
never a field of the request. Roles on a review (reviewer, co-reviewer,
subject) are derived from the review's assignment; the standing roles below
(supervisor with a scope, auditor, administrator) are granted to an account."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Principal(BaseModel):
    model_config = ConfigDict(frozen=True)

    # person: a signed-in account of a directory person; system: a bearer token
    # of another system (acts as its account's person, within its scopes);
    # respondent: holds a questionnaire token only; anonymous: nobody signed in
    kind: Literal["person", "system", "respondent", "anonymous"]
    person_id: str | None = None
    account_id: str | None = None
    # unit ids whose subtrees this principal supervises (granted)
    supervisor_scopes: tuple[str, ...] = ()
    auditor: bool = False
    administrator: bool = False
    # a token's scopes (None: a signed-in person, limited only by roles)
    token_scopes: tuple[str, ...] | None = None
    # how the principal was established: password, token, development sign-in, local CLI
    via: Literal["password", "token", "development", "cli", "questionnaire"] = "password"

    @property
    def signed_in(self) -> bool:
        return self.kind != "anonymous"


ANONYMOUS = Principal(kind="anonymous")
