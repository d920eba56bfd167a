"""Ed25519 signatures for checkpoints and export manifests (PyNaCl).

The key pair is derived from ``settings.signing_key`` so the service needs one
secret; the verify key (public) can be handed to auditors, who check exports
offline with it alone (``reviewctl audit verify --export FILE --public-key HEX``).
Ed25519 rather than HMAC for exactly that reason: verifying an HMAC needs the
secret that can forge one.
"""

from __future__ import annotations

import hashlib

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

_SEED_CONTEXT = b"pingyi/ed25519-seed/v1\n"


class Signer:
    def __init__(self, secret: str) -> None:
        self._key = SigningKey(hashlib.sha256(_SEED_CONTEXT + secret.encode()).digest())
        self.key_id = self._key.verify_key.encode().hex()

    def sign(self, message: bytes) -> str:
        return self._key.sign(message).signature.hex()

    def verifier(self) -> "Verifier":
        return Verifier(self.key_id)


class Verifier:
    def __init__(self, public_key_hex: str) -> None:
        self.key_id = public_key_hex
        self._key = VerifyKey(bytes.fromhex(public_key_hex))

    def valid(self, message: bytes, signature_hex: str) -> bool:
        try:
            self._key.verify(message, bytes.fromhex(signature_hex))
            return True
        except (BadSignatureError, ValueError):
            return False


def signer_from_settings() -> Signer:
    from config.settings import get_settings

    return Signer(get_settings().signing_key)
