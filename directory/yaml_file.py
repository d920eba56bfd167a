"""The directory as one YAML file, the form people write and review by hand:

```yaml
format: 1
people:
  - {id: P-000001, name: 王建国}
units:
  - id: U-HQ
    name: 国家质检总局党组
    tier: 1
    kind: party_group
    leader_id: P-000001
    leadership: [P-000002]     # leadership-team members besides the leader
    members: []                # ordinary members (a branch's 党员)
```

Errors name the line of the offending node, found by walking the composed
YAML node tree along the error's field path (only when there are errors, so
a good file is read at full speed).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from directory.issues import IssueList
from directory.references import Where, check_references
from domain.org import Directory, Membership, Person, PersonId, Role, Unit
from domain.strings import NUL_MESSAGE, nul_path

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


class YamlUnit(Unit):
    leadership: list[PersonId] = Field(default_factory=list)
    members: list[PersonId] = Field(default_factory=list)


class YamlDirectory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal[1] = 1
    people: list[Person] = Field(default_factory=list)
    units: list[YamlUnit] = Field(default_factory=list)


def _node_line(root: yaml.Node | None, loc: tuple) -> int | None:
    """The 1-based line of the node at ``loc`` (or of its deepest existing ancestor)."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        nxt = None
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    nxt = v
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            nxt = node.value[part]
        if nxt is None:
            break
        node = nxt
        line = node.start_mark.line + 1
    return line


def read_yaml(path: Path) -> Directory:
    """Validate and read a YAML directory file; raises ``DirectoryImportError``
    naming file, line and field of every problem."""
    name = path.name
    issues = IssueList()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        issues.add(name, None, None, f"cannot read as UTF-8 text: {exc}")
        issues.raise_if_any()
        raise
    try:
        data: Any = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        issues.add(name, mark.line + 1 if mark else None, None, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
        issues.raise_if_any()
        raise
    if not isinstance(data, dict):
        issues.add(name, 1, None, "expected a mapping with 'people' and 'units'")
        issues.raise_if_any()
    root: list[yaml.Node | None] = []

    def line_of(loc: tuple) -> int | None:
        if not root:
            root.append(yaml.compose(text, Loader=_Loader))
        return _node_line(root[0], loc)

    at = nul_path(data)
    if at is not None:
        issues.add(name, line_of(at), ".".join(str(p) for p in at), NUL_MESSAGE)
        issues.raise_if_any()
    try:
        doc = YamlDirectory.model_validate(data)
    except ValidationError as err:
        for e in err.errors(include_url=False):
            loc = tuple(e["loc"])
            issues.add(name, line_of(loc), ".".join(str(x) for x in loc), e["msg"])
        issues.raise_if_any()
        raise

    units = [(Unit.model_validate(u.model_dump(exclude={"leadership", "members"})), Where(name, None, f"units.{i}."))
             for i, u in enumerate(doc.units)]
    people = [(p, Where(name, None, f"people.{i}.")) for i, p in enumerate(doc.people)]
    memberships: list[tuple[Membership, Where, str, str]] = []
    for i, u in enumerate(doc.units):
        for role, key, ids in ((Role.LEADERSHIP, "leadership", u.leadership), (Role.MEMBER, "members", u.members)):
            for j, pid in enumerate(ids):
                memberships.append((Membership(pid, u.id, role), Where(name, None, f"units.{i}."), f"{key}.{j}", "id"))

    def where_of(w: Where, field: str) -> tuple[str, int | None, str]:
        path_ = w.prefix + field
        loc = tuple(int(x) if x.isdigit() else x for x in path_.split("."))
        return w.file, line_of(loc), path_

    check_references(units, people, memberships, issues, where_of)
    issues.raise_if_any()
    return Directory.build((u for u, _ in units), people=(p for p, _ in people), memberships=(m for m, *_ in memberships))


def directory_to_yaml_data(d: Directory) -> dict[str, Any]:
    team: dict[str, list[str]] = {}
    members: dict[str, list[str]] = {}
    for m in d.memberships:
        (team if m.role is Role.LEADERSHIP else members).setdefault(m.unit_id, []).append(m.person_id)
    units = []
    for u in d.units.values():
        row = u.model_dump(mode="json", exclude_none=True, exclude_defaults=False)
        if not row.get("external"):
            row.pop("external", None)
        if u.id in team:
            row["leadership"] = team[u.id]
        if u.id in members:
            row["members"] = members[u.id]
        units.append(row)
    return {"format": 1, "people": [p.model_dump(mode="json", exclude_none=True) for p in d.people.values()], "units": units}


def write_yaml(d: Directory, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        yaml.dump(directory_to_yaml_data(d), fh, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=200)
