"""One factory for the data converter and the client: the worker, the CLI,
the tests and the Replayer all build theirs here."""

from __future__ import annotations

import dataclasses

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes

from config.settings import Settings, get_settings
from service.codec import EncryptionCodec, KeyringError, generated_key_file, parse_keyring
from workflows import search_attributes as sa

_INDEXED_TYPES = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "INT": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "DATETIME": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "BOOL": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}


def codec(settings: Settings | None = None) -> EncryptionCodec | None:
    """The payload codec the settings ask for (None when development turned it
    off); the keyring is read once per call, so a rotated file takes effect at
    the next start."""
    settings = settings or get_settings()
    if not settings.codec_enabled:
        return None
    if settings.codec_keys is not None:
        return EncryptionCodec(parse_keyring(settings.codec_keys.get_secret_value(), "PINGYI_CODEC_KEYS"))
    path = settings.codec_key_path
    if settings.codec_key_file is None:
        generated_key_file(path)  # development only: production settings refuse to lack keys
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise KeyringError(f"PINGYI_CODEC_KEY_FILE: cannot read {path}: {e.strerror}") from None
    return EncryptionCodec(parse_keyring(text, f"PINGYI_CODEC_KEY_FILE ({path})"))


def data_converter(settings: Settings | None = None, *, payload_codec: EncryptionCodec | None | bool = True) -> DataConverter:
    """pydantic models in and out of every workflow, activity, update and query,
    sealed by the payload codec; failure messages and stack traces travel as an
    encoded payload too (a rejection's message can quote what a person typed),
    so the history's failures read "Encoded failure" without the codec.
    ``payload_codec``: True builds the settings' codec; a codec object is used
    as it is (tests, the codec server); None is the raw converter that sees the
    history as the engine stores it."""
    chosen = codec(settings) if payload_codec is True else payload_codec or None
    if chosen is None:
        return dataclasses.replace(pydantic_data_converter)
    return dataclasses.replace(pydantic_data_converter, payload_codec=chosen, failure_converter_class=DefaultFailureConverterWithEncodedAttributes)


async def connect(settings: Settings, *, runtime=None) -> Client:
    """``runtime``: a temporalio Runtime (the worker's, exporting SDK metrics); None: the default."""
    return await Client.connect(settings.address, namespace=settings.temporal_namespace, data_converter=data_converter(settings), runtime=runtime)


async def register_search_attributes(client: Client, namespace: str) -> list[str]:
    """Create the review search attributes that the server lacks; returns the
    names created (none on a second run)."""
    existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    known = set(existing.custom_attributes) | set(existing.system_attributes)
    missing = {k.name: _INDEXED_TYPES[k.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")] for k in sa.ALL_KEYS if k.name not in known}
    if missing:
        await client.operator_service.add_search_attributes(AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
    return sorted(missing)
