"""``reviewctl audit``: the auditor's tools. Replay a review (timeline, state as
of any moment), prove nobody edited the log (verify, signed checkpoints),
cross-check the log against the workflow's own history, and export what an
auditor takes away (verifiable offline).

Exit codes: 0 clean; 1 a defect or mismatch was found; 2 bad usage."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from rich.text import Text

from cli.common import act, log_engine, settings, settings_for
from domain.local_time import local_text

app = typer.Typer(help="Audit the review log: timeline, state as of a time, verify, cross-check, export.", no_args_is_help=True)
out = Console()
err = Console(stderr=True)

DbOpt = Annotated[Optional[str], typer.Option("--db", help="SQLAlchemy URL of the event log (default: from settings)")]
LangOpt = Annotated[str, typer.Option("--lang", help="zh or en")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
KeyOpt = Annotated[Optional[str], typer.Option("--public-key", help="Ed25519 verify key (hex) to trust; default: derived from settings")]


def _engine(db: str | None):
    return log_engine(db)


def _trusted(public_key: str | None):
    """The key the auditor trusts when --public-key is left out: the configured signing key's."""
    from storage.signing import signer_from_settings

    return signer_from_settings().verifier()


def _parse_time(value: str, tz) -> datetime:
    from domain.local_time import parse_deadline

    try:
        return parse_deadline(value, tz)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO-8601 time (e.g. 2026-12-07T09:00:00+08:00) or a date") from None


@app.command()
def timeline(review_id: str, lang: LangOpt = "zh", as_json: JsonOpt = False, db: DbOpt = None,
             actor: Annotated[Optional[str], typer.Option(help="as whom (development; default: the auditor)")] = None) -> None:
    """Every event of a review in order: when (local time), what, step, who, role, why."""
    from app.audit import TimelineInput, review_timeline

    if lang not in ("zh", "en"):
        raise typer.BadParameter("--lang must be zh or en")
    s = settings_for(db)
    result = act(review_timeline, TimelineInput(review_id=review_id, lang=lang), s, actor=actor, db=db)
    if as_json:
        for e in result.entries:  # one JSON line per entry of the result
            print(e.model_dump_json())
        return
    zh = lang == "zh"
    t = Table(title=Text(f"{'点评记录' if zh else 'Timeline of'} {review_id}"))
    for col in (("#", "#"), ("位置", "pos"), (f"发生时间 ({s.timezone})", f"occurred ({s.timezone})"), ("事件", "event"), ("步骤", "step"), ("操作人", "actor"), ("角色", "role"), ("理由", "reason")):
        t.add_column(col[0] if zh else col[1])
    for e in result.entries:
        t.add_row(str(e.version), str(e.position), local_text(e.occurred_at, s.tz, seconds=True), e.event, e.step_name, Text(e.actor_id or ""), e.role_name, Text(e.reason or ""))
    out.print(t)


@app.command()
def state(
    review_id: str,
    as_of: Annotated[Optional[str], typer.Option("--as-of", help="workflow time: ISO-8601, or a local date (the end of that day); without an offset, local time")] = None,
    db: DbOpt = None,
    actor: Annotated[Optional[str], typer.Option(help="as whom (development; default: the auditor)")] = None,
) -> None:
    """The review's state rebuilt from the log with the domain's fold, as of a time."""
    from app.audit import StateAsOfInput, state_as_of

    s = settings_for(db)
    at = _parse_time(as_of, s.tz) if as_of else None
    result = act(state_as_of, StateAsOfInput(review_id=review_id, as_of=at), s, actor=actor, db=db)
    if result.version == 0:
        err.print(f"no events of review {review_id} at or before {as_of}", markup=False)
        raise typer.Exit(1)
    print(result.model_dump_json(indent=2))


def _witness_default() -> Path:
    from config.settings import get_settings

    return get_settings().effective_witness_dir


@app.command()
def verify(
    stream: Annotated[Optional[str], typer.Option("--stream", help="check one stream's chain only")] = None,
    export_file: Annotated[Optional[Path], typer.Option("--export", help="verify an export file offline (its .manifest.json beside it)")] = None,
    witness: Annotated[Optional[Path], typer.Option("--witness", help="witness file or directory of checkpoints kept outside the database (default: the configured one)")] = None,
    expect_size: Annotated[Optional[int], typer.Option("--expect-size", min=1, help="a log size noted earlier (with --expect-root)")] = None,
    expect_root: Annotated[Optional[str], typer.Option("--expect-root", help="the Merkle root (hex) of the first --expect-size events")] = None,
    public_key: KeyOpt = None,
    as_json: JsonOpt = False,
    db: DbOpt = None,
) -> None:
    """Recompute chains, positions and signed checkpoints (the database's and
    the witnessed ones); name the first bad position and what is wrong. Exit 1
    on any defect."""
    from app.audit import VerifyExportInput, VerifyInput, verify as verify_log, verify_export_file

    s = settings_for(db)
    key = public_key or _trusted(None).key_id  # (the use case checks a key given)
    if export_file is not None:
        report = act(verify_export_file, VerifyExportInput(file=export_file, public_key=key), s, server_tool=True, db=db)
    else:
        # the configured witness belongs to the configured database, not to one named by --db
        path = witness or (None if db else _witness_default())
        inp = VerifyInput(stream_id=stream, witness=path, witness_named=witness is not None, without_witness=path is None,
                          expect_size=expect_size, expect_root=expect_root, public_key=key)
        report = act(verify_log, inp, s, server_tool=True, db=db, engine=lambda: _engine(db))
    if as_json:
        print(report.model_dump_json(indent=2))
    else:
        witnessed_part = f", witness up to size {report.witnessed_size}" if report.witnessed_size is not None else ""
        out.print(f"{report.scope}: {report.events} events in {report.streams} streams, last position {report.last_position}, head {report.head_position}, {report.checkpoints_verified} checkpoint(s) verified{witnessed_part}")
        for n in report.notes:
            out.print("note: " + n, markup=False)
        if report.ok:
            out.print("[green]OK[/green]: no defect")
        else:
            first = report.first_bad
            out.print(f"[red]FAILED[/red]: {report.defects_total} defect(s); first bad position {first.position}: {first.kind}")
            for d in report.defects[:20]:
                out.print("  " + d.line(), markup=False)
    if not report.ok:
        raise typer.Exit(1)


@app.command()
def checkpoint(
    every: Annotated[Optional[float], typer.Option("--every", help="keep signing, every SECONDS")] = None,
    db: DbOpt = None,
) -> None:
    """Sign the log as it stands (a Merkle root over all event hashes)."""
    from app.audit import CheckpointInput, sign_checkpoint

    s = settings_for(db)
    if every is None:
        got = act(sign_checkpoint, CheckpointInput(), s, server_tool=True, db=db, engine=lambda: _engine(db))
        cp = got.checkpoint
        out.print(f"checkpoint: {cp.tree_size} events, root {cp.root_hash}, key {cp.key_id}; witnessed in {got.witness_file}")
        return

    def signed(got) -> None:
        out.print(f"{got.checkpoint.signed_at:%H:%M:%S} checkpoint: {got.checkpoint.tree_size} events, root {got.checkpoint.root_hash[:16]}…")

    def sign_checkpoints(ctx, principal, inp):  # until Ctrl-C
        return sign_checkpoint(ctx, principal, inp, on_signed=signed)

    act(sign_checkpoints, CheckpointInput(every=every), s, server_tool=True, db=db, engine=lambda: _engine(db))


@app.command("export")
def export_cmd(
    out_file: Annotated[Path, typer.Option("--out", help="file to write; the signed manifest goes beside it as FILE.manifest.json")],
    stream: Annotated[Optional[str], typer.Option("--stream")] = None,
    campaign: Annotated[Optional[str], typer.Option("--campaign")] = None,
    everything: Annotated[bool, typer.Option("--all", help="the whole log")] = False,
    fmt: Annotated[str, typer.Option("--format", help="jsonl or csv")] = "jsonl",
    db: DbOpt = None,
) -> None:
    """JSON Lines or CSV of a stream, a campaign or everything, with a signed manifest."""
    from app.audit import ExportToFileInput, export_log

    chosen = [x for x in (stream, campaign, everything or None) if x]
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one of --stream, --campaign, --all")
    if fmt not in ("jsonl", "csv"):
        raise typer.BadParameter("--format must be jsonl or csv")
    s = settings_for(db)
    inp = ExportToFileInput(stream_id=stream, campaign_id=campaign, file_format=fmt, out=out_file)  # type: ignore[arg-type]
    m = act(export_log, inp, s, server_tool=True, db=db, engine=lambda: _engine(db))
    out.print(f"exported {m.count} events of {m.streams} stream(s) ({m.scope.label()}) to {out_file}; positions {m.first_position}..{m.last_position}; chain head {m.chain_head[:16]}…; signed by {m.key_id}")


@app.command("cross-check")
def cross_check_cmd(
    review_id: Annotated[Optional[str], typer.Argument(help="the review to check; omit with --all")] = None,
    everything: Annotated[bool, typer.Option("--all", help="every review the log or Temporal knows of")] = False,
    as_json: JsonOpt = False,
    db: DbOpt = None,
    actor: Annotated[Optional[str], typer.Option(help="as whom (development; default: the auditor)")] = None,
) -> None:
    """Replay the log and compare with the workflow: its queried state, its
    execution status (terminated, cancelled or timed out in Temporal while the
    log says open), and every event, command and step transition in its history."""
    from app.audit import CrossCheckInput, cross_check, cross_check_all

    if (review_id is None) == (not everything):
        raise typer.BadParameter("give a review id, or --all")
    s = settings_for(db)
    if everything:
        reports = act(cross_check_all, None, s, actor=actor, db=db).reports
    else:
        reports = [act(cross_check, CrossCheckInput(review_id=review_id), s, actor=actor, db=db)]
    if as_json:
        print(reports[0].model_dump_json(indent=2) if not everything else "[" + ",".join(r.model_dump_json() for r in reports) + "]")
    else:
        for report in reports:
            out.print(
                f"review {report.review_id}: {report.log_events} events in the log, {report.history_events} recorded in the workflow history, "
                f"{report.commands} command(s), steps {' → '.join(report.steps)}, execution {report.status or 'unknown'}",
                markup=False,
            )
            out.print("[green]consistent[/green]" if report.ok else "[red]MISMATCH[/red]")
            for p in report.problems:
                out.print("  " + p, markup=False)
        if everything:
            bad = sum(1 for r in reports if not r.ok)
            out.print(f"{len(reports)} review(s) checked, {bad} with a mismatch")
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@app.command()
def redraw(campaign_id: str, as_json: JsonOpt = False, db: DbOpt = None) -> None:
    """Rerun a random round's draw from the audit log alone (its recorded
    candidates and seed) and compare it with the subjects the log says were
    drawn. Exit 1 if they differ."""
    from app.campaigns import CampaignRef, redraw_campaign
    from app.principal import Principal

    inp = CampaignRef(campaign_id=campaign_id)
    res = act(redraw_campaign, inp, settings(), server_tool=True, db=db, engine=lambda: _engine(db),
              as_principal=Principal(kind="person", person_id="cli", auditor=True, via="cli"))
    if as_json:
        print(res.model_dump_json())
    else:
        out.print(f"campaign {campaign_id}: seed {res.seed}, {res.candidates} candidates{', stratified by ' + res.stratify_by if res.stratify_by else ''}, {len(res.redrawn)} drawn")
        for sid in res.redrawn:
            out.print(sid)
        out.print("[green]reproduced: the same subjects as recorded[/green]" if res.reproduced else "[red]NOT reproduced: the log's draw differs from its own seed and candidates[/red]")
    raise typer.Exit(0 if res.reproduced else 1)
