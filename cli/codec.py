"""``reviewctl codec``: make a payload key for PINGYI_CODEC_KEYS or the key
file. Rotation is putting the new entry first and keeping the old ones after it
for as long as any history sealed under them is still to be read."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Optional

import typer

from cli.common import err

app = typer.Typer(help="The payload encryption keys (AES-256-GCM) of the engine's history.", no_args_is_help=True)


@app.command("new-key")
def new_key(key_id: Annotated[Optional[str], typer.Option("--id", help="the key's id (default: k-YYYYMMDD)")] = None) -> None:
    """Print one new keyring entry, 'id:base64key'. Put it first in
    PINGYI_CODEC_KEYS (comma-separated) or as the first line of the key file."""
    from service.codec import KeyringError, new_key_entry

    try:
        print(new_key_entry(key_id or f"k-{date.today():%Y%m%d}"))
    except KeyringError as e:
        err.print(f"[red]invalid[/red] --id: {e}")
        raise typer.Exit(2) from None
