"""Signs checkpoints of the event log while the service runs (off the append
path: appends never wait for it). Every worker may run one; checkpoints are
keyed by log size, so two workers signing the same size store it once."""

from __future__ import annotations

import asyncio

import structlog
from sqlalchemy import Engine

from storage.checkpoints import CheckpointRefused, write_checkpoint
from storage.signing import Signer
from storage.witness import Witness, WitnessFailed, witness_from_settings

log = structlog.get_logger("pingyi.checkpointer")


async def sign_checkpoints(engine: Engine, signer: Signer, every_seconds: float, stop: asyncio.Event, witness: Witness | None = None) -> None:
    """Until ``stop``: sign the log every ``every_seconds``, and once more at
    the end; each checkpoint also goes to the witness (default: the configured one)."""
    witness = witness or witness_from_settings()
    while True:
        try:
            cp = await asyncio.to_thread(write_checkpoint, engine, signer, witness)
            log.debug("checkpoint_signed", tree_size=cp.tree_size, root=cp.root_hash[:16])
        except CheckpointRefused as e:  # the log does not verify: say so loudly, never sign it
            log.error("checkpoint_refused", error=str(e))
        except WitnessFailed as e:  # signed in the database, not kept outside it: an auditor must hear of it
            log.error("checkpoint_not_witnessed", error=str(e))
        except Exception as e:  # a database hiccup must not stop the worker; the next round retries
            log.warning("checkpoint_failed", error=str(e))
        if stop.is_set():
            return
        try:
            await asyncio.wait_for(stop.wait(), every_seconds)
        except asyncio.TimeoutError:
            pass
