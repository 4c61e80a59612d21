"""The log's signing key: read from a file, created only on a developer's machine."""

from __future__ import annotations

import os

from runtime.config import ConfigError, Settings
from runtime.logs import get_logger
from runtime.tlog.note import NoteError, Signer


def load_signer(settings: Settings) -> Signer:
    """The log's signed-note signer, named after the log's origin.

    In development a missing key file is created (mode 0600) and its verifier key
    logged; in production a missing or wrong key stops start-up, naming the setting.
    """
    path = settings.ledger_key_path
    if not path.exists():
        if settings.mode == "production":
            raise ConfigError(f"CERTFREE_LEDGER_KEY_FILE: {path} does not exist")
        signer = Signer.generate(settings.ledger_origin)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(signer.key_string() + "\n")
        get_logger("ledger").warning(
            "created a new log signing key", path=str(path), verifier=signer.verifier().key_string()
        )
        return signer
    try:
        signer = Signer.from_key_string(path.read_text().strip())
    except (OSError, NoteError) as error:
        raise ConfigError(f"CERTFREE_LEDGER_KEY_FILE: {path}: {error}") from None
    if signer.name != settings.ledger_origin:
        raise ConfigError(
            f"CERTFREE_LEDGER_KEY_FILE: the key is for {signer.name!r}, "
            f"not CERTFREE_LEDGER_ORIGIN={settings.ledger_origin!r}"
        )
    return signer
