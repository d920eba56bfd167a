"""A small helper that both generators (the example organization and the
synthetic one) use to grow a directory: it hands out stable ids, draws
generated names and collects units, people and memberships in order."""

from __future__ import annotations

import random

from directory.names import NameGenerator
from domain.org import Directory, Membership, Person, Role, Tier, Unit, UnitKind
from domain.rubric import UnitCategory


class DirectoryBuilder:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.names = NameGenerator(seed)
        self.units: list[Unit] = []
        self.people: list[Person] = []
        self.memberships: list[Membership] = []
        self._next_person = 0

    def person(self) -> str:
        self._next_person += 1
        pid = f"P-{self._next_person:06d}"
        self.people.append(Person(id=pid, name=self.names()))
        return pid

    def unit(
        self,
        uid: str,
        name: str,
        *,
        parent: str | None,
        tier: Tier,
        kind: UnitKind,
        category: UnitCategory = UnitCategory.OTHER,
        leader: str | None = None,
        overseen_by: str | None = None,
        guided_by: str | None = None,
        external: bool = False,
    ) -> str:
        leader = leader if leader is not None else self.person()
        self.units.append(Unit(id=uid, name=name, parent_id=parent, tier=tier, kind=kind, category=category,
                               leader_id=leader, overseen_by=overseen_by, guided_by=guided_by, external=external))
        return uid

    def leader_of(self, uid: str) -> str:
        for u in reversed(self.units):
            if u.id == uid and u.leader_id is not None:
                return u.leader_id
        raise KeyError(f"no unit {uid} with a leader built yet")

    def team(self, uid: str, n: int) -> list[str]:
        """``n`` new people in the unit's leadership team."""
        out = []
        for _ in range(n):
            pid = self.person()
            self.memberships.append(Membership(pid, uid, Role.LEADERSHIP))
            out.append(pid)
        return out

    def join_team(self, uid: str, pid: str) -> None:
        self.memberships.append(Membership(pid, uid, Role.LEADERSHIP))

    def members(self, uid: str, n: int) -> list[str]:
        out = []
        for _ in range(n):
            pid = self.person()
            self.memberships.append(Membership(pid, uid, Role.MEMBER))
            out.append(pid)
        return out

    def branch(self, uid: str, name: str, *, parent: str, category: UnitCategory, members: tuple[int, int],
               committee: int = 2, overseen_by: str | None = None) -> str:
        """A party branch: a secretary, a small branch committee (支委) and members."""
        self.unit(uid, name, parent=parent, tier=Tier.BRANCH, kind=UnitKind.BRANCH, category=category, overseen_by=overseen_by)
        self.team(uid, committee)
        self.members(uid, self.rng.randint(*members))
        return uid

    def build(self) -> Directory:
        return Directory.build(self.units, self.people, self.memberships)
