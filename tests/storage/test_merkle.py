from __future__ import annotations

import hashlib

import pytest

from storage.merkle import EMPTY_ROOT, CompactRange, merkle_root


def hashes(n):
    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n)]


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 7, 8, 9, 31, 64, 100])
def test_compact_range_root_equals_rfc6962_definition(n):
    cr = CompactRange()
    for h in hashes(n):
        cr.append(h)
    assert cr.root() == merkle_root(hashes(n))
    assert len(cr.peaks) == bin(n).count("1")


def test_range_resumes_from_stored_peaks():
    cr = CompactRange()
    for h in hashes(13):
        cr.append(h)
    resumed = CompactRange.from_hex(13, cr.to_hex())
    for h in hashes(20)[13:]:
        resumed.append(h)
    assert resumed.root() == merkle_root(hashes(20))


def test_order_and_content_change_the_root():
    hs = hashes(6)
    assert merkle_root(hs) != merkle_root([hs[1], hs[0], *hs[2:]])
    assert merkle_root(hs) != merkle_root(hs[:5])
    assert merkle_root([]) == EMPTY_ROOT
