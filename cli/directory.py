"""``reviewctl directory``: import the organization, look at it, and plan a
period — who reviews whom, how many reviews per tier and level, and what keeps
the directory from full coverage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
import yaml
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text
from rich.tree import Tree
from sqlalchemy import Engine

from directory.csv_files import write_csv_dir
from directory.example import EXAMPLE_SOURCE, build_example
from directory.service import load_rubrics, plan_period
from directory.synthetic import generate as generate_synthetic
from directory.yaml_file import write_yaml
from domain.assignment import AssignmentView
from domain.coverage import tier_label
from domain.procedure import SubjectKind
from domain.rubric import RUBRICS, RubricVersionConflict, register_rubric, rubric, rubric_from_data, rubric_to_data
from cli.common import act, log_engine, settings_for
from storage.directory import DirectoryStore, ImportResult
from storage.migrate import upgrade

app = typer.Typer(help="The organization directory: import, show, explain, plan.", no_args_is_help=True)
rubric_app = typer.Typer(help="Rubric versions: list, show, register a new one.", no_args_is_help=True)
app.add_typer(rubric_app, name="rubric")

console = Console()
err = Console(stderr=True)

DbOption = Annotated[Optional[str], typer.Option("--db", help="SQLAlchemy URL (default: PINGYI_DATABASE_URL or the SQLite file under PINGYI_DATA_DIR)")]


def _engine(db: str | None) -> Engine:
    engine = log_engine(db)
    upgrade(engine)
    return engine


def _print_import(result: ImportResult) -> None:
    if result.unchanged:
        console.print(f"[green]Unchanged[/green]: {result.units} units, {result.people} people, {result.memberships} memberships (import #{result.import_id}).")
        return
    console.print(f"[green]Imported[/green] #{result.import_id} from {result.source}: {result.units} units, {result.people} people, {result.memberships} memberships.")
    t = Table("change", "count", title="What changed")
    for kind, n in result.summary.items():
        t.add_row(kind, str(n))
    console.print(t)
    interesting = [c for c in result.changes if c.kind.value in ("leader_replaced", "person_moved", "unit_moved", "person_renamed", "unit_removed", "person_removed")]
    if interesting:
        d = Table("change", "unit", "person", "before", "after", title="Moves and replacements")
        for c in interesting[:50]:
            d.add_row(c.kind.value, c.unit_id or "", c.person_id or "", c.before or "", c.after or "")
        console.print(d)
        if len(interesting) > 50:
            console.print(f"… {len(interesting) - 50} more (see `reviewctl directory history`)")


@app.command("import")
def import_(
    path: Annotated[Path, typer.Argument(help="a .yaml file, an Excel workbook (.xlsx, sheets units/people/memberships), "
                                              "or a folder with units.csv, people.csv, memberships.csv (UTF-8 or GB18030)")],
    db: DbOption = None,
) -> None:
    """Import (or re-import) the directory. Bad input is refused whole, one line per problem naming file (sheet), line (row) and field."""
    import app.directory as uc
    from app.accounts import CLI_ADMIN

    s = settings_for(db)
    with Progress(TextColumn("writing the directory"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err, transient=True) as bar:
        task = bar.add_task("write", total=None)

        def import_directory(ctx, principal, inp):
            return uc.import_directory(ctx, principal, inp, progress=lambda done, total: bar.update(task, completed=done, total=total))

        got = act(import_directory, uc.ImportInput(path=path), s, server_tool=True, db=db, engine=lambda: _engine(db), as_principal=CLI_ADMIN)
    for where, how in got.result.read_as.items():
        console.print(f"read {escape(where)}: {escape(how)}" if got.format == "csv" else f"read {escape(how)}", highlight=False)
    _print_import(got.result)


@app.command()
def example(
    db: DbOption = None,
    replace: Annotated[bool, typer.Option("--replace", help="replace the stored directory with the example")] = False,
) -> None:
    """Load the shipped example organization (only into an empty directory unless --replace)."""
    store = DirectoryStore(_engine(db))
    if not replace and not store.is_empty():
        console.print("The directory is not empty; nothing loaded (use --replace to overwrite it with the example).")
        return
    _print_import(store.replace(build_example(), source=EXAMPLE_SOURCE))


@app.command()
def export(
    out: Annotated[Path, typer.Argument(help="a .yaml file, or a folder for the three CSV files")],
    db: DbOption = None,
) -> None:
    """Export the stored directory in the form `import` reads."""
    d = DirectoryStore(_engine(db)).load()
    if out.suffix.lower() in (".yaml", ".yml"):
        write_yaml(d, out)
    else:
        write_csv_dir(d, out)
    console.print(f"Exported {len(d.units)} units and {len(d.people)} people to {out}")


@app.command()
def generate(
    out: Annotated[Path, typer.Argument(help="a .yaml file, or a folder for the three CSV files")],
    subjects: Annotated[int, typer.Option("--subjects", min=3, help="how many subjects in scope")] = 1000,
    seed: Annotated[int, typer.Option("--seed")] = 1,
) -> None:
    """Generate a synthetic organization of any size (for benchmarks)."""
    d = generate_synthetic(subjects, seed)
    if out.suffix.lower() in (".yaml", ".yml"):
        write_yaml(d, out)
    else:
        write_csv_dir(d, out)
    console.print(f"Generated {len(d.units)} units, {len(d.people)} people, {subjects} subjects into {out}")


def _unit_label(n) -> Text:
    """One unit of ``directory show`` (an app.directory.UnitNode); names are printed as typed."""
    parts = [Text.assemble((n.name, "bold"), " ", (n.id, "dim")), Text(f"{n.kind_zh} · tier {n.tier} · {n.category_zh}/{n.category_en}"),
             Text.assemble(f"书记 {n.leader_name} ", (n.leader_id or "—", "dim"))]
    if n.team_count:
        parts.append(Text(f"班子 {n.team_count}"))
    if n.member_count:
        parts.append(Text(f"党员 {n.member_count}"))
    if n.overseen_by:
        parts.append(Text(f"分管 {n.overseen_by.name}"))
    if n.guided_by:
        parts.append(Text(f"指导 {n.guided_by.name}"))
    if n.external:
        parts.append(Text("外部", style="italic"))
    return Text(" · ").join(parts)


@app.command()
def show(
    unit_id: Annotated[str, typer.Argument(help="a unit id, e.g. U-HQ")],
    depth: Annotated[int, typer.Option("--depth", min=0, max=20, help="levels of units below to show")] = 2,
    people: Annotated[bool, typer.Option("--people", help="list leadership-team members and members")] = False,
    db: DbOption = None,
) -> None:
    """Show a unit: its tree, leaders and categories."""
    from app.directory import UnitTreeInput, unit_tree

    got = act(unit_tree, UnitTreeInput(unit_id=unit_id, depth=depth, people=people), settings_for(db), server_tool=True, db=db, engine=lambda: _engine(db))
    if got.parent:
        console.print(Text.assemble(f"上级 / parent: {got.parent.name} ", (got.parent.id, "dim")))

    def grow(tree: Tree, n) -> None:
        for p in n.team:
            tree.add(Text.assemble(f"班子成员 {p.name} ", (p.id, "dim")))
        for p in n.members:
            tree.add(Text.assemble(f"党员 {p.name} ", (p.id, "dim")))
        if n.more_below:
            tree.add(Text(f"… {n.more_below} more units below", style="dim"))
        for kid in n.cycle_to:
            tree.add(Text(f"cycle back to {kid}", style="red"))
        for child in n.children:
            grow(tree.add(_unit_label(child)), child)

    root = Tree(_unit_label(got.root))
    grow(root, got.root)
    console.print(root)


@app.command(name="explain")
def explain_(
    person_id: Annotated[str, typer.Argument(help="a person id, e.g. P-000123 (or a unit id)")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
    db: DbOption = None,
) -> None:
    """Explain who reviews a person (or unit), and whom they review."""
    from app.directory import ExplainInput, explain_subject

    got = act(explain_subject, ExplainInput(subject_id=person_id), settings_for(db), server_tool=True, db=db, engine=lambda: _engine(db))
    if as_json:
        typer.echo(got.model_dump_json(indent=2))
        return
    console.print(Text.assemble((got.name, "bold"), " ", (got.id, "dim")))
    if not got.reviewed_by:
        console.print("  被点评 / reviewed by: — (not a subject in this directory: the top of it, another authority's, or see the gaps in `plan`)")
    for a in got.reviewed_by:
        console.print(Text.assemble("  被点评 / reviewed by: ", (a.reviewer_name, "bold"), f" · level {a.level} · tier {a.tier} · points {', '.join(a.rubric_points)}"))
        console.print(Text(f"    {a.why_zh}\n    {a.why_en}"))
    t = Table("subject", "kind", "level", "tier", "role", title=f"点评对象 / reviews ({got.reviews_total})")
    for r in got.reviews:
        t.add_row(Text.assemble(r.subject_name, " ", (r.subject_id, "dim")), r.kind, r.level, str(r.tier), "reviewer" if r.role == "reviewer" else "co-reviewer")
    if got.reviews:
        console.print(t)
        if got.reviews_total > len(got.reviews):
            console.print(f"… {got.reviews_total - len(got.reviews)} more")


@app.command()
def plan(
    period: Annotated[str, typer.Option("--period", help="the period's label, e.g. 2026H2")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="print JSON: total, counts per tier and level, gaps, notices, rules")] = False,
    db: DbOption = None,
) -> None:
    """Plan a period: assignments per tier and level, every gap in coverage, and the notices to confirm."""
    from app.directory import PlanInput, plan as plan_use_case

    summary = act(plan_use_case, PlanInput(period=period), settings_for(db), server_tool=True, db=db, engine=lambda: _engine(db))
    if as_json:
        typer.echo(summary.model_dump_json(indent=2))
        return
    t = Table("tier", "A", "B", "C", "total", title=f"Assignments {period or ''} (rubric {summary.rubric_version})".replace("  ", " "))
    for tier, levels in sorted(summary.by_tier_level.items()):
        t.add_row(tier_label(tier), *(str(levels.get(x, 0)) for x in "ABC"), str(sum(levels.values())))
    totals = {x: sum(v.get(x, 0) for v in summary.by_tier_level.values()) for x in "ABC"}
    t.add_row("[bold]all[/bold]", *(str(totals[x]) for x in "ABC"), f"[bold]{summary.total}[/bold]")
    console.print(t)
    console.print(f"organizations {summary.by_kind.get('organization', 0)} · members {summary.by_kind.get('member', 0)} · co-reviewed {summary.co_reviewed} · subjects in scope {summary.subjects_in_scope}")
    console.print(f"rules: a party branch needs at least {summary.rules.min_branch_members} full members (PINGYI_MIN_BRANCH_MEMBERS)")
    if summary.notices:
        n = Table("notice", "person", "units", "message", title=f"Notices to confirm ({len(summary.notices)})", title_style="bold yellow")
        for notice in summary.notices:
            n.add_row(notice.kind.value, notice.person_id, ", ".join(notice.unit_ids), escape(f"{notice.message_zh}\n{notice.message_en}"))
        console.print(n)
    if not summary.gaps:
        console.print("[green]No gaps: every subject in scope has exactly one reviewer (全覆盖).[/green]")
        return
    g = Table("gap", "unit", "person", "subjects left", "message", title=f"Gaps ({len(summary.gaps)})", title_style="bold red")
    for gap in summary.gaps:
        g.add_row(gap.kind.value, gap.unit_id or "", gap.person_id or "", str(len(gap.subject_ids)), escape(f"{gap.message_zh}\n{gap.message_en}"))
    console.print(g)


@app.command()
def history(
    limit: Annotated[int, typer.Option("--limit", min=1)] = 10,
    db: DbOption = None,
) -> None:
    """The imports so far and what each changed."""
    t = Table("#", "when", "source", "units", "people", "changes")
    for r in DirectoryStore(_engine(db)).imports(limit):
        t.add_row(str(r.import_id), r.imported_at.isoformat(timespec="seconds") if r.imported_at else "", r.source,
                  str(r.units), str(r.people), ", ".join(f"{k} {v}" for k, v in r.summary.items()) or "unchanged")
    console.print(t)


@app.command()
def assignments(
    limit: Annotated[int, typer.Option("--limit", min=1)] = 20,
    kind: Annotated[Optional[SubjectKind], typer.Option("--kind")] = None,
    db: DbOption = None,
) -> None:
    """List assignments with their explanations (JSON lines)."""
    d, found, _ = plan_period(_engine(db))
    shown = 0
    for a in found:
        if kind is not None and a.kind is not kind:
            continue
        typer.echo(AssignmentView.of(a, d).model_dump_json())
        shown += 1
        if shown >= limit:
            break


# ---- rubric versions ------------------------------------------------------


@rubric_app.command("list")
def rubric_list(db: DbOption = None) -> None:
    load_rubrics(_engine(db))
    t = Table("version", "points", "fingerprint")
    for version, rb in RUBRICS.items():
        t.add_row(version, str(len(rb.points)), rb.fingerprint()[:12])
    console.print(t)


@rubric_app.command("show")
def rubric_show(version: Annotated[Optional[str], typer.Argument()] = None, db: DbOption = None) -> None:
    load_rubrics(_engine(db))
    rb = rubric(version) if version else rubric()
    t = Table("code", "level", "category", "zh", "en", title=f"rubric {rb.version}")
    for p in rb.points:
        t.add_row(p.code, p.level.value if p.level else "", p.category.value if p.category else "", p.text_zh, p.text_en)
    console.print(t)


@rubric_app.command("export")
def rubric_export(out: Path, version: Annotated[Optional[str], typer.Option("--version")] = None) -> None:
    """Write a rubric as YAML: the starting point of a new version."""
    rb = rubric(version) if version else rubric()
    out.write_text(yaml.safe_dump(rubric_to_data(rb), allow_unicode=True, sort_keys=False), encoding="utf-8")
    console.print(f"Wrote rubric {rb.version} to {out}")


@rubric_app.command("register")
def rubric_register(path: Path, db: DbOption = None) -> None:
    """Register a new rubric version from YAML. A changed rubric needs a new version string."""
    try:
        rb = rubric_from_data(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except ValidationError as exc:
        for e in exc.errors(include_url=False):
            err.print(f"{path}: {'.'.join(str(x) for x in e['loc'])}: {e['msg']}")
        raise typer.Exit(1)
    except (yaml.YAMLError, OSError) as exc:
        err.print(f"[red]{path}: {exc}[/red]")
        raise typer.Exit(1)
    engine = _engine(db)
    load_rubrics(engine)
    try:
        register_rubric(rb)
        stored = DirectoryStore(engine).register_rubric(rb)
    except RubricVersionConflict as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1)
    console.print(f"Rubric {rb.version} {'registered' if stored else 'already registered (same content)'}; reviews keep the version they started with.")


__all__ = ["app"]
