"""Synthetic organizations of any size, for benchmarks and load tests: the
example's shape (headquarters, local bureaus under local party committees and
guided by headquarters, departments overseen by party-group members, technical
institutes, branches with members) repeated until the directory has exactly the
requested number of subjects in scope, and a clean one (a plan of it has no
gaps: every branch has at least the minimum membership, every secretary has
someone to review).

Deterministic for a seed; names are generated (``directory.names``).
"""

from __future__ import annotations

from directory.builder import DirectoryBuilder
from domain.coverage import MIN_BRANCH_MEMBERS
from domain.org import Directory, Tier, UnitKind
from domain.rubric import UnitCategory as C

_DEPT_CATEGORIES = (C.OTHER, C.LAW_ENFORCEMENT, C.LAW_ENFORCEMENT, C.WINDOW_SERVICE, C.LAW_ENFORCEMENT, C.OTHER, C.TECHNICAL_INSTITUTION, C.LAW_ENFORCEMENT)


class _Counted(DirectoryBuilder):
    """Counts subjects as they are created: every unit under the top (not
    another authority's) and every leadership-team member or member."""

    def __init__(self, seed: int, target: int) -> None:
        super().__init__(seed)
        self.target = target
        self.subjects = 0

    @property
    def left(self) -> int:
        return self.target - self.subjects

    def subject_unit(self, *args, **kw) -> str:
        self.subjects += 1
        return self.unit(*args, **kw)

    def team(self, uid: str, n: int) -> list[str]:
        n = max(0, min(n, self.left))
        self.subjects += n
        return super().team(uid, n)

    def members(self, uid: str, n: int) -> list[str]:
        n = max(0, min(n, self.left))
        self.subjects += n
        return super().members(uid, n)

    def branch_counted(self, uid: str, name: str, *, parent: str, category: C, overseen_by: str | None = None) -> None:
        if self.left < MIN_BRANCH_MEMBERS:
            # too few subjects left for a real branch (a secretary and two more):
            # they sit in the parent's leadership team instead, so the organization stays clean
            self.team(parent, self.left)
            return
        self.subject_unit(uid, name, parent=parent, tier=Tier.BRANCH, kind=UnitKind.BRANCH, category=category, overseen_by=overseen_by)
        self.team(uid, 2)
        self.members(uid, self.rng.randint(8, 15))


def generate(subjects: int, seed: int = 1) -> Directory:
    """A directory with exactly ``subjects`` subjects in scope (at least 3)."""
    if subjects < 3:
        raise ValueError("a synthetic organization needs at least 3 subjects (a committee, its secretary's team, a member)")
    b = _Counted(seed, subjects)
    hq = b.unit("U-S-HQ", "总局党组", parent=None, tier=Tier.HEADQUARTERS, kind=UnitKind.PARTY_GROUP)
    b.team(hq, 1)
    organs = b.subject_unit("U-S-HQ-ORG", "总局直属机关党委", parent=hq, tier=Tier.HEADQUARTERS, kind=UnitKind.PARTY_COMMITTEE)
    b.team(organs, 1)  # its secretary reviews someone even when nothing else fits under it
    committee = None
    i = 0
    while b.left > 0:
        i += 1
        if b.left < 40:
            # the remainder: one more branch under the organs' committee, sized to hit the target
            # (or, if too few are left for a branch, seats in the organs' committee)
            if b.left < MIN_BRANCH_MEMBERS:
                b.team(organs, b.left)
                break
            uid = f"U-S-R{i:05d}"
            b.subject_unit(uid, f"第{i}党支部", parent=organs, tier=Tier.BRANCH, kind=UnitKind.BRANCH)
            b.members(uid, b.left)
            break
        if i % 4 == 1:
            committee = b.unit(f"U-S-EXT{i:05d}", f"第{i}地方党委", parent=None, tier=Tier.HEADQUARTERS,
                               kind=UnitKind.PARTY_COMMITTEE, external=True)
        bureau = f"U-S-B{i:05d}"
        b.subject_unit(bureau, f"第{i}局党组", parent=committee, tier=Tier.LOCAL_BUREAU, kind=UnitKind.PARTY_GROUP,
                       category=C.LAW_ENFORCEMENT, guided_by=hq)
        team = b.team(bureau, 4) or [b.leader_of(bureau)]
        for j, cat in enumerate(_DEPT_CATEGORIES, start=1):
            if b.left <= 0:
                break
            b.branch_counted(f"{bureau}-D{j:02d}", f"第{i}局第{j}处党支部", parent=bureau, category=cat, overseen_by=team[j % len(team)])
        if b.left < 2:
            b.team(bureau, b.left)  # a technical centre needs someone for its secretary to review
            break
        inst = b.subject_unit(f"{bureau}-TC", f"第{i}局技术中心党委", parent=bureau, tier=Tier.AFFILIATED,
                              kind=UnitKind.PARTY_COMMITTEE, category=C.TECHNICAL_INSTITUTION, overseen_by=team[0])
        b.team(inst, 2)
        for j in range(1, 5):
            if b.left <= 0:
                break
            b.branch_counted(f"{inst}-B{j:02d}", f"第{i}局技术中心第{j}党支部", parent=inst, category=C.TECHNICAL_INSTITUTION)
    return b.build()
