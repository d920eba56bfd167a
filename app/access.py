"""Who may see and do what, derived rather than typed in.

Roles on one review come from the review itself: its reviewer, co-reviewers
and subject (``domain.review.roles_of`` / ``subject_person_ids``), and the
configured office (``spec.supervisor_ids``). Standing roles come from the
principal: a supervisor with scopes (unit ids whose directory subtree they
supervise; a review concerns them if its subject unit lies in such a subtree),
an auditor (reads everything, changes nothing), an administrator (accounts and
grants, no review content).

Reading a review needs a role on it, a covering scope, or the auditor role.
Anyone else gets :class:`NotFound`, exactly as if the review did not exist, so
a list or a probe never reveals reviews that do not concern the caller; an
administrator without any of these is told :class:`Forbidden` (they know the
system, not its content).

A supervisor command from a scoped supervisor: the use case checks the scope
here, then sends the command with ``supervisor_grant`` set to the covering
unit. The domain cannot see grants or the tree, so it takes that as the
application layer's attestation and lets the actor act as a supervisor, the
way it always lets the office (``spec.supervisor_ids``) act.
"""

from __future__ import annotations

from sqlalchemy import select

from app.errors import Forbidden, NotFound
from app.principal import Principal
from domain.procedure import Role
from domain.review import ReviewState, roles_of
from storage.directory import DirectoryStore, units_t

MAX_TREE_DEPTH = 64  # a parent chain longer than this is a cycle in the data


def unit_ancestry(directory: DirectoryStore, unit_id: str) -> list[str]:
    """``unit_id`` and every unit above it, nearest first (stops at a cycle)."""
    chain = [unit_id]
    with directory._reader() as conn:
        current = unit_id
        for _ in range(MAX_TREE_DEPTH):
            parent = conn.execute(select(units_t.c.parent_id).where(units_t.c.id == current)).scalar_one_or_none()
            if not parent or parent in chain:
                break
            chain.append(parent)
            current = parent
    return chain


def subtree_units(directory: DirectoryStore, roots: tuple[str, ...]) -> set[str]:
    """Every unit in the subtrees under ``roots`` (roots included), one query
    per level of the tree."""
    seen = set(roots)
    frontier = list(roots)
    with directory._reader() as conn:
        while frontier:
            children = [r[0] for r in conn.execute(select(units_t.c.id).where(units_t.c.parent_id.in_(frontier)))]
            frontier = [c for c in children if c not in seen]
            seen.update(frontier)
    return seen


def covering_scope(directory: DirectoryStore, principal: Principal, unit_id: str) -> str | None:
    """The principal's granted scope whose subtree holds ``unit_id``, if any."""
    if not principal.supervisor_scopes:
        return None
    ancestry = unit_ancestry(directory, unit_id)
    for scope in principal.supervisor_scopes:
        if scope in ancestry:
            return scope
    return None


def covering_scope_of(directory: DirectoryStore, principal: Principal, unit_id: str | None) -> str | None:
    """The granted scope whose subtree holds ``unit_id``'s whole subtree;
    ``unit_id`` None stands for the whole organization, which only a grant
    over a top unit (one with no parent) covers."""
    if unit_id is not None:
        return covering_scope(directory, principal, unit_id)
    if not principal.supervisor_scopes:
        return None
    with directory._reader() as conn:
        tops = {r[0] for r in conn.execute(select(units_t.c.id).where(units_t.c.id.in_(principal.supervisor_scopes), units_t.c.parent_id.is_(None),
                                                                       units_t.c.external.is_(False)))}
    return next((s for s in principal.supervisor_scopes if s in tops), None)


def is_office(settings, principal: Principal) -> bool:
    """The configured office (``settings.supervisor_ids``: a supervisor of every
    review), or the local operator of ``reviewctl`` on the server itself, who
    acts as the office (whoever runs it there can read the database anyway)."""
    return principal.via == "cli" or (principal.person_id is not None and principal.person_id in settings.supervisor_ids)


def review_roles(principal: Principal, state: ReviewState) -> set[Role]:
    """The principal's roles on this review from its assignment (and the office)."""
    if principal.person_id is None or state.spec is None:
        return set()
    return roles_of(state, principal.person_id)


class Standing:
    """How the principal stands towards one review: its derived roles, the
    scope that makes it a supervisor of it (if any), and whether it may read."""

    def __init__(self, roles: set[Role], scope: str | None, auditor: bool) -> None:
        self.roles = roles
        self.scope = scope
        self.auditor = auditor

    @property
    def supervises(self) -> bool:
        return Role.SUPERVISOR in self.roles or self.scope is not None

    @property
    def may_read(self) -> bool:
        return bool(self.roles) or self.scope is not None or self.auditor

    def role_names(self) -> list[str]:
        names = {r.value for r in self.roles}
        if self.scope is not None:
            names.add(Role.SUPERVISOR.value)
        if self.auditor:
            names.add("auditor")
        return sorted(names)


def standing(directory: DirectoryStore, principal: Principal, state: ReviewState) -> Standing:
    roles = review_roles(principal, state)
    scope = None
    if state.spec is not None and Role.SUPERVISOR not in roles:
        scope = covering_scope(directory, principal, state.spec.subject.unit_id)
    return Standing(roles, scope, principal.auditor)


def require_read(directory: DirectoryStore, principal: Principal, review_id: str, state: ReviewState) -> Standing:
    """The principal may read this review, or the review does not exist for them."""
    got = standing(directory, principal, state)
    if got.may_read:
        return got
    if principal.administrator:
        raise Forbidden("administrators manage accounts and grants; review content needs a role on the review", field="review_id",
                        message_zh="管理员管理账户与授权，无权查看点评内容")
    raise not_found(review_id)


def require_signed_in_person(principal: Principal) -> str:
    """The person acting. A system token acts as its account's person."""
    if not principal.signed_in or principal.person_id is None:
        from app.errors import NotSignedIn

        raise NotSignedIn("sign in to act on a review", message_zh="请先登录")
    return principal.person_id


def not_found(review_id: str) -> NotFound:
    return NotFound(f"no review {review_id!r}; 'reviewctl review list' shows the reviews you may see", field="review_id",
                    message_zh=f"没有点评 {review_id!r}")

