"""The payload codec: every payload Temporal stores for us (workflow input,
update arguments and results, activity markers, query answers, failure
messages) is sealed with AES-256-GCM before it leaves the process, so the
engine's history, its database and its Web UI hold ciphertext, never review
text, opinions, plans or people's names.

Keys rotate: the keyring's first key seals every new payload, each payload names
its key in its metadata, and every key still listed opens the payloads sealed
under it, so adding a new key in front keeps old histories readable. A payload
without our encoding metadata passes through untouched: histories recorded
before the codec was switched on (and the saved replay fixtures) still load.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

ENCODING = b"binary/encrypted"
KEY_ID_META = "encryption-key-id"
NONCE_BYTES = 12
KEY_BYTES = 32
_KEY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class KeyringError(ValueError):
    """A keyring that cannot be used; the message names the setting and the
    entry, never the key material."""


class UnknownKeyError(ValueError):
    """A payload sealed under a key this process does not hold."""


@dataclass(frozen=True)
class CodecKey:
    key_id: str
    secret: bytes

    def __repr__(self) -> str:  # keep key material out of logs and tracebacks
        return f"CodecKey(key_id={self.key_id!r})"


def parse_keyring(text: str, source: str) -> list[CodecKey]:
    """``id:base64key`` entries, separated by commas or new lines, newest
    first; ``#`` starts a comment line. ``source`` names the setting in errors."""
    keys: list[CodecKey] = []
    entries = [e.strip() for line in text.splitlines() if not line.strip().startswith("#") for e in line.split(",")]
    for n, entry in enumerate((e for e in entries if e), start=1):
        key_id, sep, material = entry.partition(":")
        key_id, material = key_id.strip(), material.strip()
        if not sep or not material:
            raise KeyringError(f"{source}: entry {n} is not 'key-id:base64-key'")
        if not _KEY_ID.match(key_id):
            raise KeyringError(f"{source}: entry {n}: key id {key_id[:70]!r} must be 1-64 letters, digits, '.', '_' or '-'")
        try:
            secret = base64.b64decode(material, validate=True)
        except (binascii.Error, ValueError):
            raise KeyringError(f"{source}: key {key_id!r} is not valid base64") from None
        if len(secret) != KEY_BYTES:
            raise KeyringError(f"{source}: key {key_id!r} is {len(secret)} bytes; AES-256 needs {KEY_BYTES} (generate one with: reviewctl codec new-key)")
        if any(k.key_id == key_id for k in keys):
            raise KeyringError(f"{source}: key id {key_id!r} appears twice")
        keys.append(CodecKey(key_id, secret))
    if not keys:
        raise KeyringError(f"{source}: holds no key")
    return keys


def new_key_entry(key_id: str) -> str:
    """A fresh random key as one keyring entry."""
    if not _KEY_ID.match(key_id):
        raise KeyringError(f"key id {key_id[:70]!r} must be 1-64 letters, digits, '.', '_' or '-'")
    return f"{key_id}:{base64.b64encode(os.urandom(KEY_BYTES)).decode()}"


def generated_key_file(path: Path) -> Path:
    """The embedded default's key file: created once with a random key (owner
    read/write only) and kept; concurrent first starts agree on one file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("# Pingyi payload keys, newest first (id:base64). Losing this file makes the engine's history unreadable.\n")
        f.write(new_key_entry("local-1") + "\n")
    return path


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM over the serialized payload; the key id is also the
    associated data, so a payload relabelled with another key id fails to open."""

    def __init__(self, keys: Sequence[CodecKey]) -> None:
        if not keys:
            raise KeyringError("the codec needs at least one key")
        super().__init__()
        self._current = keys[0]
        self._ciphers = {k.key_id: AESGCM(k.secret) for k in keys}
        self._encrypt = self._ciphers[self._current.key_id].encrypt

    @property
    def current_key_id(self) -> str:
        return self._current.key_id

    @property
    def key_ids(self) -> list[str]:
        return list(self._ciphers)

    async def encode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [self.seal(p) for p in payloads]

    async def decode(self, payloads: Iterable[Payload]) -> list[Payload]:
        return [self.open(p) for p in payloads]

    def seal(self, payload: Payload) -> Payload:
        key_id = self._current.key_id
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._encrypt(nonce, payload.SerializeToString(), key_id.encode())
        return Payload(metadata={"encoding": ENCODING, KEY_ID_META: key_id.encode()}, data=nonce + sealed)

    def open(self, payload: Payload) -> Payload:
        if payload.metadata.get("encoding") != ENCODING:
            return payload  # recorded before the codec (or by another converter): as it is
        key_id = payload.metadata.get(KEY_ID_META, b"").decode(errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnknownKeyError(f"payload sealed under key {key_id!r}, which is not in this keyring ({', '.join(self._ciphers)}): add it to PINGYI_CODEC_KEYS or the key file")
        try:
            plain = cipher.decrypt(payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:], key_id.encode())
        except InvalidTag:
            raise UnknownKeyError(f"payload sealed under key {key_id!r} does not open with the key of that id (altered, or a different key reused the id)") from None
        return Payload.FromString(plain)
