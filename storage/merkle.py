"""RFC 6962 (Certificate Transparency) Merkle tree hashes, built incrementally.

A :class:`CompactRange` holds one hash per perfect subtree of the leaves seen
so far (at most log2(n) of them), so the root of a log of any size is computed
in one streaming pass with constant memory, and a checkpoint can store its
range to be extended later without rereading the log.
"""

from __future__ import annotations

import hashlib

EMPTY_ROOT = hashlib.sha256(b"").hexdigest()

try:  # CPython's built-in SHA-256 (3.12+: _sha2; 3.11: _sha256)
    from _sha2 import sha256 as _small_sha256
except ImportError:
    try:
        from _sha256 import sha256 as _small_sha256
    except ImportError:  # pragma: no cover
        _small_sha256 = hashlib.sha256
_small_sha256 = _small_sha256 if _small_sha256(b"\x01" * 65).digest() == hashlib.sha256(b"\x01" * 65).digest() else hashlib.sha256
"""For the 33- and 65-byte Merkle inputs: OpenSSL 3's per-call setup (~0.9 us)
is twice the built-in's whole cost for one or two blocks (0.48 / 0.84 us vs
0.95 / 0.97 us measured); for the ~1 KB event inputs OpenSSL stays faster."""


def leaf_hash(event_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(event_hash_hex)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


class CompactRange:
    """The perfect-subtree hashes covering leaves [0, size), left to right."""

    __slots__ = ("size", "peaks")

    def __init__(self, size: int = 0, peaks: list[bytes] | None = None) -> None:
        peaks = list(peaks or [])
        if len(peaks) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} leaves has {bin(size).count('1')} peaks, not {len(peaks)}")
        self.size = size
        self.peaks = peaks

    def append(self, event_hash_hex: str) -> None:
        h = hashlib.sha256(b"\x00" + bytes.fromhex(event_hash_hex)).digest()
        size = self.size
        peaks = self.peaks
        # merge equal-height subtrees: one merge per trailing 1-bit of size
        while size & 1:
            h = hashlib.sha256(b"\x01" + peaks.pop() + h).digest()
            size >>= 1
        peaks.append(h)
        self.size += 1

    def extend(self, event_hashes_hex) -> None:
        """``append`` each, in order, from hex event hashes."""
        fromhex = bytes.fromhex
        self.extend_digests([fromhex(x) for x in event_hashes_hex])

    def extend_digests(self, event_hashes) -> None:
        """``append`` each, in order, from 32-byte event hashes: the leaves hashed
        in one comprehension and the merges in one local loop (the verifier feeds
        a whole chunk)."""
        sha256 = _small_sha256
        size = self.size
        peaks = self.peaks
        pop = peaks.pop
        push = peaks.append
        for h in [sha256(b"\x00" + x).digest() for x in event_hashes]:
            s = size
            while s & 1:
                h = sha256(b"\x01" + pop() + h).digest()
                s >>= 1
            push(h)
            size += 1
        self.size = size

    def root(self) -> str:
        """MTH(D[n]): the peaks folded right to left (RFC 6962 §2.1 splits at
        the largest power of two below n, which is exactly the leftmost peak)."""
        if not self.peaks:
            return EMPTY_ROOT
        h = self.peaks[-1]
        for p in reversed(self.peaks[:-1]):
            h = node_hash(p, h)
        return h.hex()

    def to_hex(self) -> list[str]:
        return [p.hex() for p in self.peaks]

    @classmethod
    def from_hex(cls, size: int, peaks: list[str]) -> "CompactRange":
        return cls(size, [bytes.fromhex(p) for p in peaks])


def merkle_root(event_hashes) -> str:
    """Reference definition, straight from RFC 6962 (for tests)."""
    leaves = [leaf_hash(h) for h in event_hashes]

    def mth(items: list[bytes]) -> bytes:
        if len(items) == 1:
            return items[0]
        k = 1
        while k * 2 < len(items):
            k *= 2
        return node_hash(mth(items[:k]), mth(items[k:]))

    return mth(leaves).hex() if leaves else EMPTY_ROOT
