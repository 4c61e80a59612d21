"""The licenses service's two secrets: the holder-index HMAC key and the key-sealing passphrase.

Each is read from a file named by a setting. On a developer's machine a missing file is
created (random, mode 0600); in production a missing or short file stops start-up,
naming the setting.
"""

from __future__ import annotations

import os
import secrets
from typing import Literal

from runtime.config import ConfigError, Settings
from runtime.logs import get_logger

_MIN_BYTES = 32
_ENV = {
    "holder_index_key": "CERTFREE_HOLDER_INDEX_KEY_FILE",
    "signing_passphrase": "CERTFREE_SIGNING_PASSPHRASE_FILE",
}


def load_secret(
    settings: Settings, name: Literal["holder_index_key", "signing_passphrase"]
) -> bytes:
    """The secret's bytes (the file's content, surrounding whitespace removed)."""
    path = settings.key_path(name)
    if not path.exists():
        if settings.mode == "production":
            raise ConfigError(f"{_ENV[name]}: {path} does not exist")
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
        get_logger("licenses").warning("created a new development secret", path=str(path))
    try:
        value = path.read_bytes().strip()
    except OSError as error:
        raise ConfigError(f"{_ENV[name]}: {path}: {error.strerror}") from None
    if len(value) < _MIN_BYTES:
        raise ConfigError(f"{_ENV[name]}: {path} holds fewer than {_MIN_BYTES} bytes")
    return value
