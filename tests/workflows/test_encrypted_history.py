"""The engine's history holds no clear text: a review driven through all five
steps on the real dev server, then its history fetched by a client *without*
the codec (what anyone reaching port 7233 or the Web UI sees) holds none of
the review's text, answers, plan or names. The same history replays with the
codec, and fails to replay without it; a keyring rotated mid-review keeps the
whole history readable while it still lists the old key."""

from __future__ import annotations

import os
import uuid
from datetime import date

from specs import branch_spec
from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from domain.events import Subject
from domain.procedure import SubjectKind
from service import demo
from service.codec import CodecKey, EncryptionCodec
from service.reviews import drive_on_time, send, start_review, wait_opened
from service.temporal import data_converter
from worker import build_worker
from workflows.messages import ReviewResult
from workflows.review import ReviewWorkflow

NAME = "李建国"  # the subject's display name, and a leader's name in the findings below


def texts_of(value) -> set[str]:
    """Every string a person wrote into the commands (ids excluded: they are
    what workflow ids and search attributes are allowed to carry)."""
    found: set[str] = set()
    if isinstance(value, str):
        if any(ord(ch) > 127 for ch in value) or " " in value:
            found.add(value)
    elif isinstance(value, dict):
        for v in value.values():
            found |= texts_of(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            found |= texts_of(v)
    return found


def raw_client(client: Client) -> Client:
    """The same server through a converter with no codec: the engine's view."""
    return Client(client.service_client, namespace=client.namespace, data_converter=data_converter(payload_codec=None))


def keyed_client(client: Client, *keys: CodecKey) -> Client:
    return Client(client.service_client, namespace=client.namespace, data_converter=data_converter(payload_codec=EncryptionCodec(keys)))


def new_key(key_id: str) -> CodecKey:
    return CodecKey(key_id, os.urandom(32))


def named_spec():
    spec = branch_spec(review_id=f"rv-codec-{uuid.uuid4().hex[:10]}")
    return spec.model_copy(update={"subject": Subject(kind=SubjectKind.ORGANIZATION, subject_id="U-BR-01", unit_id="U-BR-01", leader_id="P-SEC-01", display_name=NAME)})


async def replays(history: WorkflowHistory, converter) -> bool:
    result = await Replayer(workflows=[ReviewWorkflow], data_converter=converter).replay_workflow(history, raise_on_replay_failure=False)
    return result.replay_failure is None


async def test_raw_history_holds_no_review_text_and_replays_with_the_codec(dev_env, log_engine, task_queue):
    client, spec = dev_env.client, named_spec()
    async with build_worker(client, log_engine, task_queue):
        await start_review(client, spec, task_queue)
        result, sent = await drive_on_time(client, spec, date.today())
    assert result.final_step.value == "closed"
    secrets = {NAME} | set().union(*(texts_of(cmd.model_dump(mode="json")) for cmd in sent))
    assert len(secrets) >= 8, secrets  # findings, answers, the review, the plan, the report-back, the name

    raw = await raw_client(client).get_workflow_handle(spec.review_id).fetch_history()
    raw_bytes = raw.to_json().encode() + b"".join(e.SerializeToString() for e in raw.events)
    leaked = sorted(s for s in secrets if s.encode() in raw_bytes or s.encode("unicode_escape") in raw_bytes)
    assert leaked == [], f"clear text in the engine's history: {leaked}"

    # the search can find them: the decoded history holds every one of them
    decoded = await client.get_workflow_handle(spec.review_id).fetch_history()
    clear = "".join([decoded.to_json()] + [p.data.decode(errors="replace") for p in await _all_payloads(client, decoded)])
    assert [s for s in secrets if s not in clear] == []

    assert await replays(raw, data_converter())
    assert not await replays(raw, data_converter(payload_codec=None)), "the history replayed without the key: it was not encrypted"


async def _all_payloads(client: Client, history: WorkflowHistory):
    """Every payload of the history, opened by the client's codec."""
    from google.protobuf.message import Message
    from temporalio.api.common.v1 import Payload

    found: list[Payload] = []

    def walk(msg: Message) -> None:
        if isinstance(msg, Payload):
            found.append(msg)
            return
        for field, value in msg.ListFields():
            if field.message_type is None:
                continue
            if isinstance(value, Message):
                walk(value)
                continue
            for item in value.values() if field.message_type.GetOptions().map_entry else value:  # repeated field or map
                if isinstance(item, Message):
                    walk(item)

    for e in history.events:
        walk(e)
    return await client.data_converter.payload_codec.decode(found) if client.data_converter.payload_codec else found


async def test_a_key_rotated_mid_review_keeps_the_history_readable(dev_env, log_engine, task_queue):
    old, new = new_key("k-old"), new_key("k-new")
    spec = branch_spec(review_id=f"rv-rotate-{uuid.uuid4().hex[:10]}")
    commands = demo.on_time_commands(spec, date.today())
    before = keyed_client(dev_env.client, old)
    async with build_worker(before, log_engine, task_queue):
        await start_review(before, spec, task_queue)
        await wait_opened(before.get_workflow_handle(spec.review_id))
        for cmd in commands[:3]:
            await send(before, spec.review_id, cmd)
    after = keyed_client(dev_env.client, new, old)  # the new key in front: it seals, the old one still opens
    async with build_worker(after, log_engine, task_queue):
        for cmd in commands[3:]:
            await send(after, spec.review_id, cmd)
        result = await after.get_workflow_handle(spec.review_id, result_type=ReviewResult).result()
    assert result.final_step.value == "closed"

    raw = await raw_client(dev_env.client).get_workflow_handle(spec.review_id).fetch_history()
    used = {p.metadata.get("encryption-key-id") for p in await _all_payloads(raw_client(dev_env.client), raw) if "encryption-key-id" in p.metadata}
    assert used == {b"k-old", b"k-new"}, used
    assert await replays(raw, data_converter(payload_codec=EncryptionCodec([new, old])))
    assert not await replays(raw, data_converter(payload_codec=EncryptionCodec([new]))), "dropping the old key must make its payloads unreadable"
