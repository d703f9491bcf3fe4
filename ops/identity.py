"""The field keyring and the public development secrets, from settings: refused outside a local stack.

The default field key and the sandbox's auth token are printed in the source, so they protect nothing:
they are accepted only where nothing real is at stake (a loopback broker; the local SMS sandbox).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from contracts.deadletter import seal_originals_with
from contracts.sealed import Keyring, KeyringError
from ops.errors import ChildSafeOpsError
from ops.settings import LOCAL_FIELD_KEY, LOCAL_TWILIO_TOKEN, Settings

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def _host(address: str) -> str:
    return urlsplit(address if "//" in address else f"//{address}").hostname or ""


def local_broker(settings: Settings) -> bool:
    return all(_host(a.strip()) in LOOPBACK for a in settings.bootstrap_servers.split(",") if a.strip())


def sandbox_in_use(settings: Settings) -> bool:
    """The SMS provider is the local Twilio-compatible sandbox (an empty base URL means api.twilio.com)."""
    return bool(settings.twilio_base_url) and _host(settings.twilio_base_url) in LOOPBACK


def field_keyring(settings: Settings) -> Keyring:
    """The keyring that seals identity on Kafka; dead letters built in this process seal their originals with it."""
    try:
        keyring = Keyring.parse(settings.field_keys.get_secret_value())
    except KeyringError as exc:
        raise ChildSafeOpsError(f"CHILDSAFE_FIELD_KEYS: {exc}") from None
    public = Keyring.parse(LOCAL_FIELD_KEY)
    if public.current in keyring.kids and not local_broker(settings):
        raise ChildSafeOpsError(
            "CHILDSAFE_FIELD_KEYS still holds the public development key 'local-dev' while the broker is not on "
            "loopback: generate a key (python -c 'from contracts.sealed import new_key; print(new_key())') and set "
            "CHILDSAFE_FIELD_KEYS=<kid>:<key> (see docs/security.md, Identity)")
    seal_originals_with(keyring)
    return keyring


def webhook_auth_token(settings: Settings) -> str:
    """The token webhook signatures are checked with; the sandbox's public default only with the sandbox."""
    token = settings.twilio_auth_token.get_secret_value()
    if token == LOCAL_TWILIO_TOKEN and not sandbox_in_use(settings):
        raise ChildSafeOpsError(
            "CHILDSAFE_TWILIO_AUTH_TOKEN is the sandbox's public default but CHILDSAFE_TWILIO_BASE_URL is not the "
            "local sandbox: anyone could sign webhooks. Set the provider's auth token (refusing to start)")
    return token
