"""One factory for the data converter and the client: the worker, the CLI,
the tests and the Replayer all build theirs here."""

from __future__ import annotations

import dataclasses

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest, ListSearchAttributesRequest
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from config.settings import Settings
from workflows import search_attributes as sa

_INDEXED_TYPES = {
    "KEYWORD": IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
    "INT": IndexedValueType.INDEXED_VALUE_TYPE_INT,
    "DATETIME": IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
    "BOOL": IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
}


def data_converter() -> DataConverter:
    """pydantic models in and out of every workflow, activity, update and query."""
    return dataclasses.replace(pydantic_data_converter)


async def connect(settings: Settings) -> Client:
    return await Client.connect(settings.address, namespace=settings.temporal_namespace, data_converter=data_converter())


async def register_search_attributes(client: Client, namespace: str) -> list[str]:
    """Create the review search attributes that the server lacks; returns the
    names created (none on a second run)."""
    existing = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    known = set(existing.custom_attributes) | set(existing.system_attributes)
    missing = {k.name: _INDEXED_TYPES[k.indexed_value_type.name.removeprefix("INDEXED_VALUE_TYPE_")] for k in sa.ALL_KEYS if k.name not in known}
    if missing:
        await client.operator_service.add_search_attributes(AddSearchAttributesRequest(namespace=namespace, search_attributes=missing))
    return sorted(missing)
