"""Sealed fields: identity and free text travel on Kafka encrypted (AES-256-GCM), opened only where they are needed.

A sealed value is a JSON object, never a string, so nobody can mistake it for plain text:
``{"alg": "A256GCM", "kid": "2026-11", "ct": "<base64url of nonce ‖ ciphertext ‖ tag>"}``.
The key id travels with the ciphertext and, with the field's purpose (``reporter.name``,
``description`` …), is authenticated as associated data: a value sealed for one field cannot be
passed off as another, and a changed key id fails to open.

Keys rotate by id: a :class:`Keyring` holds every key still needed to open old messages and seals
with the newest (the last one configured). See docs/security.md, "Identity".
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import Discriminator, Field, Tag

from contracts.common import Contract
from contracts.errors import ChildSafeError

KID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")
NONCE_BYTES = 12


class Sealed(Contract):
    """An AES-256-GCM ciphertext of one field, with the id of the key that sealed it."""

    alg: Literal["A256GCM"] = "A256GCM"
    kid: str = Field(pattern=KID.pattern)
    ct: str = Field(min_length=24, max_length=64_000, pattern=r"^[A-Za-z0-9_-]+={0,2}$")


PLAIN_TAG, SEALED_TAG = "plain-value", "sealed-value"  # union branches; the codec leaves them out of field names


def _form(value: Any) -> str:
    return SEALED_TAG if isinstance(value, (dict, Sealed)) else PLAIN_TAG


def sealable(plain: Any) -> Any:
    """A field that is ``plain`` as a client sends it, or a :class:`Sealed` object once the intake sealed it;
    an error names the field, not the branch."""
    return Annotated[Annotated[plain, Tag(PLAIN_TAG)] | Annotated[Sealed, Tag(SEALED_TAG)],
                     Discriminator(_form)]


class SealError(ChildSafeError):
    """A sealed value cannot be opened: its key id is not configured (add the old key back to
    CHILDSAFE_FIELD_KEYS) or it was altered (treat the message as forged)."""


class KeyringError(ChildSafeError):
    """CHILDSAFE_FIELD_KEYS is malformed: use ``kid:base64-of-32-bytes`` entries, comma-separated, newest last."""


class Keyring:
    """Every field key by id; the newest seals, all of them open."""

    def __init__(self, keys: Mapping[str, bytes], current: str):
        if current not in keys:
            raise KeyringError(f"current key id {current!r} is not among the keys")
        for kid, key in keys.items():
            if not KID.match(kid):
                raise KeyringError(f"key id {kid!r}: 1-32 letters, digits, '.', '_' or '-'")
            if len(key) != 32:
                raise KeyringError(f"key {kid!r}: must be 32 bytes (AES-256), is {len(key)}")
        self._aead = {kid: AESGCM(key) for kid, key in keys.items()}
        self.current = current

    @classmethod
    def parse(cls, spec: str) -> Keyring:
        """``kid:base64key,kid2:base64key`` — the last entry is the newest and seals."""
        keys: dict[str, bytes] = {}
        for entry in (e.strip() for e in spec.split(",") if e.strip()):
            kid, sep, encoded = entry.partition(":")
            if not sep:
                raise KeyringError(f"entry {len(keys) + 1}: expected kid:base64key")
            try:
                keys[kid.strip()] = base64.b64decode(encoded.strip(), validate=True)
            except (binascii.Error, ValueError):
                raise KeyringError(f"key {kid.strip()!r}: not base64") from None
        if not keys:
            raise KeyringError("no field key configured")
        return cls(keys, list(keys)[-1])

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._aead)

    def seal_bytes(self, plaintext: bytes, purpose: str) -> Sealed:
        nonce = os.urandom(NONCE_BYTES)
        ct = self._aead[self.current].encrypt(nonce, plaintext, _aad(self.current, purpose))
        return Sealed(kid=self.current, ct=base64.urlsafe_b64encode(nonce + ct).decode())

    def open_bytes(self, sealed: Sealed, purpose: str) -> bytes:
        aead = self._aead.get(sealed.kid)
        if aead is None:
            raise SealError(f"{purpose}: sealed with key id {sealed.kid!r}, which is not configured")
        raw = base64.urlsafe_b64decode(sealed.ct)
        try:
            return aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(sealed.kid, purpose))
        except InvalidTag:
            raise SealError(f"{purpose}: ciphertext or key id altered (authentication failed)") from None

    def seal(self, text: str, purpose: str) -> Sealed:
        return self.seal_bytes(text.encode(), purpose)

    def open(self, value: str | Sealed, purpose: str) -> str:
        """Plain text (from before sealing, or a trusted internal producer) passes through unchanged."""
        return self.open_bytes(value, purpose).decode() if isinstance(value, Sealed) else value


def _aad(kid: str, purpose: str) -> bytes:
    return f"childsafe/{kid}/{purpose}".encode()


def new_key() -> str:
    """A fresh base64 AES-256 key for CHILDSAFE_FIELD_KEYS."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()
