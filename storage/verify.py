"""``reviewctl audit verify``: recompute the log's integrity from its rows and
name the first position where it breaks, and how.

Streaming passes over one snapshot, each with bounded memory:

1. **global order** (by position): positions 1..head without gaps (a gap is a
   deleted event or stream); each row's hash recomputed from its columns
   (edited); nothing beyond the head the service handed out (inserted); the
   RFC 6962 root at every signed checkpoint and its Ed25519 signature (a
   rewritten-and-rehashed history, or a cut tail).
2. **stream order**: versions 1..n without gaps, each ``prev_hash`` equal to
   the previous event's hash, positions rising with versions (reordered).
   Checked during pass 1 with each open stream's last (version, hash): an
   event that is exactly its stream's next one in position order is exactly
   what the stream-order scan would accept. Only when some event is not (a
   tampered log), or more than ``STREAM_CAP`` streams are open, does a second
   scan in (stream_id, version) order, no hashing, name the defects.

Rows whose hash fails are kept (a bounded number) to tell an edit from a move:
two rows that each carry the hash of the other's position were swapped.
"""

from __future__ import annotations

import hashlib
import heapq
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import Engine, select

from storage import scan
from storage.canonical import GENESIS_HASH, RAW_COLUMNS, SQLITE_HASH_INPUT, raw_hash
from storage.checkpoints import Checkpoint, all_checkpoints
from storage.merkle import CompactRange
from storage.schema import log_head
from storage.signing import Verifier

DefectKind = Literal["edited", "deleted", "inserted", "reordered", "checkpoint"]
KEEP_DEFECTS = 200
PAIRING_LIMIT = 200


class Defect(BaseModel):
    position: int  # the first position this defect concerns
    kind: DefectKind
    stream_id: str | None = None
    version: int | None = None
    detail: str

    def line(self) -> str:
        where = f" ({self.stream_id} v{self.version})" if self.stream_id else ""
        return f"position {self.position}{where}: {self.kind}: {self.detail}"


class VerifyReport(BaseModel):
    scope: str
    events: int = 0
    streams: int = 0
    last_position: int = 0
    head_position: int = 0
    checkpoints_verified: int = 0
    defects_total: int = 0
    defects: list[Defect] = Field(default_factory=list, description=f"the {KEEP_DEFECTS} earliest, by position")

    @property
    def ok(self) -> bool:
        return self.defects_total == 0

    @property
    def first_bad(self) -> Defect | None:
        return self.defects[0] if self.defects else None


class _Defects:
    """Keeps the earliest defects by position, counts all."""

    def __init__(self) -> None:
        self.total = 0
        self._heap: list[tuple[int, int, Defect]] = []  # max-heap on position via negation

    def add(self, d: Defect) -> None:
        self.total += 1
        item = (-d.position, -self.total, d)
        if len(self._heap) < KEEP_DEFECTS:
            heapq.heappush(self._heap, item)
        elif item > self._heap[0]:
            heapq.heapreplace(self._heap, item)

    def sorted(self) -> list[Defect]:
        return [d for _, _, d in sorted(self._heap, key=lambda t: (-t[0], -t[1]))]


def _classify_hash_failures(failed: dict[int, tuple], beyond_head: int, defects: _Defects) -> None:
    """Swapped rows carry a hash valid at each other's position; the rest were edited."""
    moved: set[int] = set()
    positions = sorted(failed)
    if len(positions) <= PAIRING_LIMIT:
        for i, p in enumerate(positions):
            if p in moved:
                continue
            for q in positions[i + 1 :]:
                if q in moved:
                    continue
                a, b = failed[p], failed[q]
                if raw_hash(a, position=q) == a[13] and raw_hash(b, position=p) == b[13]:
                    moved.update((p, q))
                    defects.add(Defect(position=p, kind="reordered", stream_id=a[1], version=a[2], detail=f"swapped with position {q} ({b[1]} v{b[2]}): each event carries the hash of the other's slot"))
                    break
    for p in positions:
        if p in moved or p > beyond_head:
            continue
        r = failed[p]
        defects.add(Defect(position=p, kind="edited", stream_id=r[1], version=r[2], detail="the stored columns do not match the event's hash (content, actor, time or chain link changed)"))


def _check_checkpoint(cp: Checkpoint, cr: CompactRange, trusted: Verifier, last_good: int, failures: list[tuple[int, int, str]]) -> bool:
    """A failed checkpoint only bounds where the change lies; it is placed at
    the first specific defect in that range once all are known (:func:`_place`)."""
    if not cp.signature_valid(trusted):
        why = "signed by another key" if cp.key_id != trusted.key_id else "bad signature"
        failures.append((last_good + 1, cp.tree_size, f"checkpoint at size {cp.tree_size} ({cp.signed_at:%Y-%m-%d %H:%M}): {why}"))
        return False
    if cr.size != cp.tree_size or cr.root() != cp.root_hash:
        failures.append(
            (last_good + 1, cp.tree_size, f"the first {cp.tree_size} events no longer reproduce the root signed at {cp.signed_at:%Y-%m-%d %H:%M:%S}: something in positions {last_good + 1}..{cp.tree_size} was changed")
        )
        return False
    return True


def _place(failures: list[tuple[int, int, str]], defects: _Defects) -> None:
    known = defects.sorted()
    for lo, hi, detail in failures:
        inside = [d.position for d in known if lo <= d.position <= hi]
        defects.add(Defect(position=inside[0] if inside else lo, kind="checkpoint", detail=detail))


def verify_log(engine: Engine, trusted: Verifier) -> VerifyReport:
    report = VerifyReport(scope="log")
    defects = _Defects()
    with scan.snapshot(engine) as conn:
        head = conn.execute(select(log_head.c.position).where(log_head.c.id == 1)).scalar_one()
        report.head_position = head
        cps = all_checkpoints(conn)
        cp_failures: list[tuple[int, int, str]] = []
        cp_i = 0
        last_good_cp = 0
        cr = CompactRange()
        suspects: list[int] = []  # SQLite: rows whose SQL-built input did not hash to their hash
        failed: dict[int, tuple] = {}
        beyond: list[int] = []  # positions past the head
        expected = 1
        count = 0
        sha256 = hashlib.sha256
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # the database assembles each row's hash input (see SQLITE_HASH_INPUT)
            sql = f"SELECT position, {SQLITE_HASH_INPUT}, hash, stream_id, version, prev_hash FROM events ORDER BY position"
            hi, si, vi, pi = 2, 3, 4, 5
        else:
            sql = f"SELECT {RAW_COLUMNS} FROM events ORDER BY position"
            hi, si, vi, pi = 13, 1, 2, 12
        next_cp = cps[0].tree_size if cps else _NEVER
        extend = cr.extend_digests
        fromhex = bytes.fromhex
        # stream links checked in this same pass: each stream's last (version,
        # hash). Any irregularity, or more open streams than STREAM_CAP (memory
        # stays bounded), sends the exact check to its own stream-order scan
        last: dict | None = {}
        links_ok = True
        for chunk in scan.chunks(conn, sql):
            leaves = []
            push = leaves.append
            for row in chunk:
                pos = row[0]
                h = row[hi]
                if pos > next_cp:
                    extend(leaves)
                    leaves = []
                    push = leaves.append
                    while cp_i < len(cps) and cps[cp_i].tree_size < pos:
                        if _check_checkpoint(cps[cp_i], cr, trusted, last_good_cp, cp_failures):
                            report.checkpoints_verified += 1
                            last_good_cp = cps[cp_i].tree_size
                        cp_i += 1
                    next_cp = cps[cp_i].tree_size if cp_i < len(cps) else _NEVER
                if pos != expected:
                    n = pos - expected
                    defects.add(Defect(position=expected, kind="deleted", detail=f"position{'s' if n > 1 else ''} {expected}{'..' + str(pos - 1) if n > 1 else ''} missing: {n} event{'s' if n > 1 else ''} deleted"))
                if sqlite:
                    d = sha256(row[1]).digest() if row[1] is not None else b""
                    if d.hex() == h:
                        push(d)
                    else:
                        push(fromhex(h))
                        if len(suspects) < KEEP_DEFECTS * 10:
                            suspects.append(pos)  # re-checked by the definition below
                else:
                    push(fromhex(h))
                    if raw_hash(row) != h and len(failed) < KEEP_DEFECTS * 10:
                        failed[pos] = tuple(row)
                if pos > head:
                    beyond.append(pos)
                if links_ok:
                    sid = row[si]
                    st = last.get(sid)
                    if st is None:
                        links_ok = row[vi] == 1 and row[pi] == GENESIS_HASH
                    else:
                        links_ok = row[vi] == st[0] + 1 and row[pi] == st[1]
                    last[sid] = (row[vi], h)
                    if len(last) > STREAM_CAP:
                        links_ok = False
                    if not links_ok:
                        last = None
                expected = pos + 1
            extend(leaves)
            count += len(chunk)
        last_pos = expected - 1
        if sqlite and (suspects or beyond):
            full_row = _row_at(conn)
            for pos in suspects:
                row = full_row(pos)
                if raw_hash(row) != row[13]:
                    failed[pos] = row
            beyond_rows = {pos: full_row(pos) for pos in beyond}
        else:
            beyond_rows = {}
        for pos in beyond:
            row = beyond_rows.get(pos) or failed.get(pos)
            defects.add(Defect(position=pos, kind="inserted", stream_id=row[1] if row else None, version=row[2] if row else None, detail=f"position {pos} was never handed out by the service (its last is {head})"))
        while cp_i < len(cps) and cps[cp_i].tree_size <= last_pos:
            if _check_checkpoint(cps[cp_i], cr, trusted, last_good_cp, cp_failures):
                report.checkpoints_verified += 1
                last_good_cp = cps[cp_i].tree_size
            cp_i += 1
        if last_pos < head:
            defects.add(Defect(position=last_pos + 1, kind="deleted", detail=f"the log ends at position {last_pos} but the service handed out up to {head}: the tail was deleted"))
        elif cp_i < len(cps):
            cp = cps[-1]
            defects.add(Defect(position=last_pos + 1, kind="deleted", detail=f"the log ends at position {last_pos} but a checkpoint signed {cp.tree_size} events: the tail was deleted"))
        _classify_hash_failures(failed, head, defects)
        report.events, report.last_position = count, last_pos
        if links_ok:
            # every event followed its stream's previous one (version + 1, its
            # hash as prev_hash) in position order: exactly what the stream-order
            # scan would find, so it has nothing to report
            report.streams = len(last)
        else:
            report.streams = _check_stream_links(conn, defects)
        _place(cp_failures, defects)
    report.defects_total, report.defects = defects.total, defects.sorted()
    return report


STREAM_CAP = 200_000
"""Open streams tracked by the single-pass link check (~200 bytes each);
beyond it the verifier falls back to the stream-order scan."""


_NEVER = float("inf")


def _row_at(conn):
    """The raw row at a position (SQLite: position is the rowid)."""
    cur = conn.connection.driver_connection.cursor()

    def fetch(pos: int) -> tuple:
        return cur.execute(f"SELECT {RAW_COLUMNS} FROM events WHERE position = ?", (pos,)).fetchone()

    return fetch


def _check_stream_links(conn, defects: _Defects, where: str = "", params: tuple = ()) -> int:
    """Each stream's versions 1..n without gaps, each ``prev_hash`` equal to the
    previous event's hash, positions rising with versions: one scan in
    (stream_id, version) order, no hashing."""
    cond = where.replace("{p}", "?" if conn.dialect.name == "sqlite" else "%s")
    sql = f"SELECT stream_id, version, position, prev_hash, hash FROM events {('WHERE ' + cond) if cond else ''} ORDER BY stream_id, version"
    streams = 0
    cur = None
    expect_version = 1
    last_hash = GENESIS_HASH
    last_pos = 0
    for chunk in scan.chunks(conn, sql, params):
        for sid, version, pos, prev, h in chunk:
            if sid != cur:
                cur, expect_version, last_hash, last_pos = sid, 1, GENESIS_HASH, 0
                streams += 1
            if version != expect_version:
                gone = f"v{expect_version}" + (f"..v{version - 1}" if version - 1 > expect_version else "")
                defects.add(Defect(position=pos, kind="deleted", stream_id=sid, version=version, detail=f"{gone} of the stream missing before this event"))
            elif prev != last_hash:
                what = f"v{version - 1}'s hash" if version > 1 else "the genesis hash"
                defects.add(Defect(position=pos, kind="edited", stream_id=sid, version=version, detail=f"prev_hash does not match {what}: the earlier event was rewritten, or this one forged"))
            if pos < last_pos:
                defects.add(Defect(position=pos, kind="reordered", stream_id=sid, version=version, detail=f"v{version} sits at position {pos}, before v{version - 1} at {last_pos}"))
            expect_version, last_hash, last_pos = version + 1, h, pos
    return streams


def verify_stream(engine: Engine, stream_id: str) -> VerifyReport:
    """One stream's own chain. The global checks (gaps, checkpoints) need the
    whole log: run :func:`verify_log` for those."""
    report = VerifyReport(scope=f"stream {stream_id}")
    defects = _Defects()
    with scan.snapshot(engine) as conn:
        head = conn.execute(select(log_head.c.position).where(log_head.c.id == 1)).scalar_one()
        report.head_position = head
        failed: dict[int, tuple] = {}
        count = 0
        for row in scan.rows(conn, where="stream_id = {p}", params=(stream_id,), order="version"):
            count += 1
            report.last_position = max(report.last_position, row[0])
            if row[0] > head:
                defects.add(Defect(position=row[0], kind="inserted", stream_id=row[1], version=row[2], detail=f"position {row[0]} was never handed out by the service (its last is {head})"))
            if raw_hash(row) != row[13]:
                failed[row[0]] = tuple(row)
        _classify_hash_failures(failed, head, defects)
        report.events = count
        report.streams = _check_stream_links(conn, defects, where="stream_id = {p}", params=(stream_id,))
        if count == 0:
            defects.add(Defect(position=0, kind="deleted", stream_id=stream_id, detail="the log holds no event of this stream"))
    report.defects_total, report.defects = defects.total, defects.sorted()
    return report
