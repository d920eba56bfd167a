"""Signed checkpoints ("signed tree heads", as in Certificate Transparency):
the Merkle root over the first N event hashes in position order, signed with
Ed25519. They are the part of the log's integrity that does not live in the
log's own rows: a log cut short, or rewritten and re-hashed end to end, no
longer reproduces a root the service signed earlier.

Checkpoints are written off the append path (``reviewctl audit checkpoint``,
once, or ``--every SECONDS``), each extending the previous one's compact range
with only the events appended since, so writing one costs O(new events).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Iterator

from pydantic import BaseModel
from sqlalchemy import Engine, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from storage import scan
from storage.canonical import raw_hash
from storage.merkle import CompactRange
from storage.schema import checkpoints as checkpoints_t
from storage.schema import log_head, ts_text
from storage.signing import Signer, Verifier

if TYPE_CHECKING:
    from storage.witness import Witness


class CheckpointRefused(Exception):
    """The log does not verify; signing it would vouch for a tampered log."""


class Checkpoint(BaseModel):
    tree_size: int
    root_hash: str
    signed_at: datetime
    key_id: str
    signature: str

    def message(self) -> bytes:
        return checkpoint_message(self.tree_size, self.root_hash, self.signed_at)

    def signature_valid(self, trusted: Verifier) -> bool:
        return self.key_id == trusted.key_id and trusted.valid(self.message(), self.signature)


def checkpoint_message(tree_size: int, root_hash: str, signed_at: datetime) -> bytes:
    return f"pingyi-checkpoint/v1\n{tree_size}\n{root_hash}\n{ts_text(signed_at)}\n".encode()


def _from_row(row) -> Checkpoint:
    m = row._mapping
    return Checkpoint(tree_size=m["tree_size"], root_hash=m["root_hash"], signed_at=m["signed_at"], key_id=m["key_id"], signature=m["signature"])


def latest(conn: Connection) -> tuple[Checkpoint, CompactRange] | None:
    row = conn.execute(select(checkpoints_t).order_by(checkpoints_t.c.tree_size.desc()).limit(1)).first()
    if row is None:
        return None
    return _from_row(row), CompactRange.from_hex(row.tree_size, json.loads(row.peaks))


def all_checkpoints(conn: Connection) -> list[Checkpoint]:
    """Small rows (no peaks); a log has one per checkpoint interval."""
    cols = [checkpoints_t.c.tree_size, checkpoints_t.c.root_hash, checkpoints_t.c.signed_at, checkpoints_t.c.key_id, checkpoints_t.c.signature]
    return [_from_row(r) for r in conn.execute(select(*cols).order_by(checkpoints_t.c.tree_size))]


def write_checkpoint(engine: Engine, signer: Signer, witness: "Witness | None" = None) -> Checkpoint:
    """Sign the log as it stands now, and hand the checkpoint to ``witness``
    (storage.witness) to keep outside the database. Refuses
    (:class:`CheckpointRefused`) if the previous checkpoint does not verify or
    an event appended since does not match its own hash or leaves a gap;
    raises ``WitnessFailed`` if the witness could not keep it (the database
    row stands)."""
    cp = _sign(engine, signer)
    if witness is not None:
        witness.keep(cp)
    return cp


def _sign(engine: Engine, signer: Signer) -> Checkpoint:
    trusted = signer.verifier()
    with scan.snapshot(engine) as conn:
        prev = latest(conn)
        if prev is None:
            cr = CompactRange()
        else:
            cp, cr = prev
            if not cp.signature_valid(trusted) or cr.root() != cp.root_hash:
                raise CheckpointRefused(f"checkpoint at size {cp.tree_size} does not verify with key {trusted.key_id[:16]}…; run `reviewctl audit verify`")
        head = conn.execute(select(log_head.c.position).where(log_head.c.id == 1)).scalar_one()
        if prev is not None and head == cr.size:
            return prev[0]
        for row in scan.rows(conn, where="position > {p} AND position <= {p}", params=(cr.size, head)):
            if row[0] != cr.size + 1:
                raise CheckpointRefused(f"position {cr.size + 1} is missing")
            if raw_hash(row) != row[13]:
                raise CheckpointRefused(f"position {row[0]} ({row[1]} v{row[2]}) does not match its hash")
            cr.append(row[13])
        if cr.size != head:
            raise CheckpointRefused(f"the log ends at position {cr.size} but the head says {head}")
    now = datetime.now(timezone.utc)
    root = cr.root()
    cp = Checkpoint(tree_size=cr.size, root_hash=root, signed_at=now, key_id=signer.key_id, signature=signer.sign(checkpoint_message(cr.size, root, now)))
    try:
        with engine.begin() as conn:
            conn.execute(insert(checkpoints_t).values(**cp.model_dump(), peaks=json.dumps(cr.to_hex())))
    except IntegrityError:
        # another checkpointer signed the same size first: theirs stands
        with engine.connect().execution_options(sqlite_deferred=True) as conn:
            return _from_row(conn.execute(select(checkpoints_t).where(checkpoints_t.c.tree_size == cr.size)).one())
    return cp


def iter_checkpoints_every(engine: Engine, signer: Signer, seconds: float, witness: "Witness | None" = None) -> Iterator[Checkpoint]:
    """For ``reviewctl audit checkpoint --every``: one checkpoint per interval."""
    import time

    while True:
        yield write_checkpoint(engine, signer, witness)
        time.sleep(seconds)
