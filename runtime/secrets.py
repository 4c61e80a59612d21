"""The deployment's file secrets: the holder-index HMAC key and the key-sealing passphrase.

Each is read from a file named by a setting (``CERTFREE_HOLDER_INDEX_KEY_FILE``,
``CERTFREE_SIGNING_PASSPHRASE_FILE``; empty means under ``<data_dir>/keys/``). The
licenses and proofs services both read the holder-index key, so they must get the very
same bytes, however they start.

Shortest use::

    key = load_secret(settings, "holder_index_key")

On a developer's machine a missing file is created (random, mode 0600). Creation is
race-free: the random bytes are written whole to a private temporary file that is then
hard-linked into place, and a link never replaces an existing name; of several services
starting at once exactly one creates the file, and every one of them reads what it
holds, never a half-written file. In production a missing, unreadable or short file
stops start-up with a :class:`~runtime.config.ConfigError` naming the setting.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path
from typing import Literal

from runtime.config import ConfigError, Settings
from runtime.logs import get_logger

SecretName = Literal["holder_index_key", "signing_passphrase"]
"""The secrets a deployment keeps in files."""

MIN_BYTES = 32
"""Fewest bytes a secret file must hold (surrounding whitespace removed)."""


def load_secret(settings: Settings, name: SecretName) -> bytes:
    """The secret's bytes: its file's content with surrounding whitespace removed.

    Development creates a missing file (see the module docstring); production refuses
    it. A file holding fewer than :data:`MIN_BYTES` bytes is refused in both modes.
    Messages name the setting and the path, never the secret.
    """
    setting = _setting(name)
    path = settings.key_path(name)
    if not path.exists():
        if settings.mode == "production":
            raise ConfigError(f"{setting}: {path} does not exist")
        if create_secret_file(path):
            get_logger("secrets").warning("created a new development secret", path=str(path))
    try:
        value = path.read_bytes().strip()
    except OSError as error:
        raise ConfigError(f"{setting}: {path}: {error.strerror}") from None
    if len(value) < MIN_BYTES:
        raise ConfigError(f"{setting}: {path} holds fewer than {MIN_BYTES} bytes")
    return value


def create_secret_file(path: Path) -> bool:
    """Write a new random secret (mode 0600) at `path` unless a file is there already;
    whether this call created it.

    The secret goes to a temporary file beside `path` first, flushed to disk, then is
    linked to `path`: the link fails if another process linked first, and either way
    `path` appears holding a whole secret, so concurrent callers all read the same bytes.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp opens with O_EXCL and mode 0600.
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)


def _setting(name: SecretName) -> str:
    """The environment variable that names the secret's file (from the Settings field)."""
    env: str = Settings.__dataclass_fields__[f"{name}_file"].metadata["env"]
    return env
