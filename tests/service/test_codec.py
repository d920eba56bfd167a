"""The payload codec without a server: sealing, the key id in the metadata,
rotation, pass-through of payloads recorded before the codec, tampering, the
keyring's text form, failure messages, and the settings that refuse to run
production without it."""

from __future__ import annotations

import asyncio
import base64
import os
import stat

import pytest
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.exceptions import ApplicationError

from config.settings import Settings
from service.codec import ENCODING, KEY_ID_META, CodecKey, EncryptionCodec, KeyringError, UnknownKeyError, new_key_entry, parse_keyring
from service.temporal import codec, data_converter

TEXT = "调研了解: 李建国同志的作风".encode()


def key(key_id: str) -> CodecKey:
    return CodecKey(key_id, os.urandom(32))


def plain(data: bytes = TEXT) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=data)


def roundtrip(sealer: EncryptionCodec, opener: EncryptionCodec, payload: Payload) -> Payload:
    [sealed] = asyncio.run(sealer.encode([payload]))
    [opened] = asyncio.run(opener.decode([sealed]))
    return opened


def test_sealed_payload_names_its_key_and_hides_the_data():
    c = EncryptionCodec([key("k1")])
    [sealed] = asyncio.run(c.encode([plain()]))
    assert sealed.metadata["encoding"] == ENCODING and sealed.metadata[KEY_ID_META] == b"k1"
    assert TEXT not in sealed.data and b"json/plain" not in sealed.data
    assert roundtrip(c, c, plain()) == plain()


def test_two_seals_of_one_payload_differ():
    c = EncryptionCodec([key("k1")])
    a, b = asyncio.run(c.encode([plain(), plain()]))
    assert a.data != b.data  # a fresh nonce each time


def test_rotation_seals_with_the_first_key_and_opens_with_any():
    old, new = key("old"), key("new")
    before = EncryptionCodec([old])
    rotated = EncryptionCodec([new, old])
    assert roundtrip(before, rotated, plain()) == plain()
    [sealed] = asyncio.run(rotated.encode([plain()]))
    assert sealed.metadata[KEY_ID_META] == b"new"
    with pytest.raises(UnknownKeyError, match="'old'"):
        roundtrip(before, EncryptionCodec([new]), plain())


def test_payloads_recorded_before_the_codec_pass_through():
    c = EncryptionCodec([key("k1")])
    assert asyncio.run(c.decode([plain()])) == [plain()]


def test_tampered_or_relabelled_payload_is_refused():
    k1, k2 = key("k1"), key("k2")
    c = EncryptionCodec([k1, k2])
    [sealed] = asyncio.run(c.encode([plain()]))
    flipped = Payload(metadata=dict(sealed.metadata), data=sealed.data[:-1] + bytes([sealed.data[-1] ^ 1]))
    with pytest.raises(UnknownKeyError, match="does not open"):
        asyncio.run(c.decode([flipped]))
    relabelled = Payload(metadata={**sealed.metadata, KEY_ID_META: b"k2"}, data=sealed.data)
    with pytest.raises(UnknownKeyError):
        asyncio.run(c.decode([relabelled]))


def test_keyring_text_newest_first_with_comments_and_both_separators():
    a, b, c = new_key_entry("a"), new_key_entry("b"), new_key_entry("c")
    keys = parse_keyring(f"# rotated 2026-12\n{a},{b}\n\n{c}\n", "PINGYI_CODEC_KEYS")
    assert [k.key_id for k in keys] == ["a", "b", "c"]
    assert EncryptionCodec(keys).current_key_id == "a"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "holds no key"),
        ("nokey", "not 'key-id:base64-key'"),
        ("bad id:" + base64.b64encode(os.urandom(32)).decode(), "key id"),
        ("k:%%%", "not valid base64"),
        ("k:" + base64.b64encode(os.urandom(16)).decode(), "16 bytes"),
        ("k:{0},k:{0}".format(base64.b64encode(os.urandom(32)).decode()), "appears twice"),
    ],
)
def test_bad_keyring_names_the_setting_and_never_the_key(text, says):
    with pytest.raises(KeyringError) as info:
        parse_keyring(text, "PINGYI_CODEC_KEYS")
    assert "PINGYI_CODEC_KEYS" in str(info.value) and says in str(info.value)
    material = text.partition(":")[2].split(",")[0]
    assert len(material) < 8 or material not in str(info.value)


def test_failure_messages_are_sealed_too():
    """A rejection's message can quote what a person typed: the failure the
    engine stores says only "Encoded failure"; the client reads the original."""
    converter = data_converter(payload_codec=EncryptionCodec([key("k1")]))
    failure = Failure()
    asyncio.run(converter.encode_failure(ApplicationError("意见: 李建国同志 ...", type="CommandRejected"), failure))
    assert "李建国".encode() not in failure.SerializeToString()
    assert failure.message == "Encoded failure"
    back = asyncio.run(converter.decode_failure(failure))
    assert "李建国" in str(back)


def test_development_generates_one_private_key_file_and_keeps_it(tmp_path):
    s = Settings(data_dir=tmp_path, codec_keys=None, codec_key_file=None)
    first = codec(s)
    path = tmp_path / "codec-keys"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert codec(s).current_key_id == first.current_key_id == "local-1"
    assert roundtrip(first, codec(s), plain()) == plain()


def test_a_key_file_is_read(tmp_path):
    path = tmp_path / "keys"
    path.write_text(new_key_entry("file-2") + "\n" + new_key_entry("file-1") + "\n")
    c = codec(Settings(codec_keys=None, codec_key_file=path))
    assert c.key_ids == ["file-2", "file-1"] and c.current_key_id == "file-2"
    with pytest.raises(KeyringError, match="cannot read"):
        codec(Settings(codec_keys=None, codec_key_file=tmp_path / "missing"))


PRODUCTION = dict(environment="production", signing_key="s", session_secret="t")


def test_development_may_turn_the_codec_off_production_may_not():
    assert codec(Settings(codec_enabled=False)) is None
    with pytest.raises(ValidationError, match="PINGYI_CODEC_ENABLED"):
        Settings(**PRODUCTION, codec_enabled=False)
    with pytest.raises(ValidationError, match="PINGYI_CODEC_KEYS or PINGYI_CODEC_KEY_FILE"):
        Settings(**PRODUCTION, codec_keys=None)
    assert Settings(**PRODUCTION, codec_keys=new_key_entry("p1")).codec_enabled


def test_the_keys_show_neither_in_the_settings_repr_nor_in_its_errors():
    entry = new_key_entry("k")
    assert entry.split(":")[1] not in repr(Settings(codec_keys=entry))
    with pytest.raises(ValidationError) as info:
        Settings(**PRODUCTION, codec_enabled=False, codec_keys=entry)
    assert entry.split(":")[1] not in str(info.value)
