"""The deployment's file secrets: created once in development, required in production."""

from __future__ import annotations

import multiprocessing
import os
import stat
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from runtime.config import ConfigError, Settings
from runtime.secrets import MIN_BYTES, create_secret_file, load_secret

RACERS = 8


def settings(tmp_path: Path, mode: str = "development", **files: Path) -> Settings:
    """Settings whose data directory is `tmp_path` (secret files under ``keys/``)."""
    return Settings(mode=mode, data_dir=tmp_path, **files)  # type: ignore[arg-type]


def _load_in_process(data_dir: str, start: threading.Barrier) -> bytes:
    start.wait()
    return load_secret(Settings(data_dir=Path(data_dir)), "holder_index_key")


class TestDevelopment:
    """In development a missing secret is created once, private, and then kept."""

    def test_missing_file_is_created_private_and_long_enough(self, tmp_path: Path) -> None:
        """The new file is mode 0600 in a 0700 directory and holds at least MIN_BYTES."""
        value = load_secret(settings(tmp_path), "holder_index_key")
        path = tmp_path / "keys" / "holder-index.key"
        assert len(value) >= MIN_BYTES
        assert path.read_bytes().strip() == value
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    def test_second_load_reads_the_same_bytes(self, tmp_path: Path) -> None:
        """A created secret is never replaced by a later start."""
        first = load_secret(settings(tmp_path), "signing_passphrase")
        assert load_secret(settings(tmp_path), "signing_passphrase") == first

    def test_the_two_secrets_are_different_files(self, tmp_path: Path) -> None:
        """The holder-index key and the passphrase are separate, independent secrets."""
        key = load_secret(settings(tmp_path), "holder_index_key")
        passphrase = load_secret(settings(tmp_path), "signing_passphrase")
        assert key != passphrase
        assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
            "holder-index.key",
            "signing.passphrase",
        ]

    def test_configured_path_is_used(self, tmp_path: Path) -> None:
        """The setting's file wins over the default under the data directory."""
        path = tmp_path / "elsewhere" / "hmac.key"
        path.parent.mkdir()
        path.write_text("  " + "k" * 40 + "\n")
        loaded = load_secret(settings(tmp_path, holder_index_key_file=path), "holder_index_key")
        assert loaded == b"k" * 40
        assert not (tmp_path / "keys").exists()

    def test_existing_file_is_left_alone(self, tmp_path: Path) -> None:
        """create_secret_file reports that it did not create, and changes nothing."""
        path = tmp_path / "secret"
        path.write_bytes(b"x" * 40)
        assert create_secret_file(path) is False
        assert path.read_bytes() == b"x" * 40
        assert os.listdir(tmp_path) == ["secret"]


class TestRefusals:
    """A missing file in production, or a short or unreadable one anywhere, stops start-up."""

    def test_production_refuses_a_missing_file_naming_the_setting(self, tmp_path: Path) -> None:
        """Production never creates a secret: the operator must provide it."""
        with pytest.raises(ConfigError, match="CERTFREE_HOLDER_INDEX_KEY_FILE") as refused:
            load_secret(settings(tmp_path, "production"), "holder_index_key")
        assert "does not exist" in str(refused.value)
        assert not (tmp_path / "keys").exists()

    @pytest.mark.parametrize("mode", ["development", "production"])
    def test_short_file_is_refused_without_quoting_it(self, tmp_path: Path, mode: str) -> None:
        """A secret of fewer than MIN_BYTES bytes is refused; the message names the
        setting, never the secret."""
        path = tmp_path / "keys" / "signing.passphrase"
        path.parent.mkdir()
        short = "s3cr3t-" + "p" * (MIN_BYTES - 8)
        path.write_text(f"\n{short}\n")
        with pytest.raises(ConfigError, match="CERTFREE_SIGNING_PASSPHRASE_FILE") as refused:
            load_secret(settings(tmp_path, mode), "signing_passphrase")
        assert f"fewer than {MIN_BYTES} bytes" in str(refused.value)
        assert short not in str(refused.value)

    def test_unreadable_path_is_refused_naming_the_setting(self, tmp_path: Path) -> None:
        """A directory where the file should be is reported, not raised as OSError."""
        path = tmp_path / "keys" / "holder-index.key"
        path.mkdir(parents=True)
        with pytest.raises(ConfigError, match="CERTFREE_HOLDER_INDEX_KEY_FILE"):
            load_secret(settings(tmp_path), "holder_index_key")


class TestRace:
    """Services that start together and race to create the key all read the same bytes."""

    def test_threads_creating_at_once_get_identical_bytes(self, tmp_path: Path) -> None:
        """Of RACERS threads released together, exactly one creates; all read its bytes."""
        for round_number in range(10):
            data_dir = tmp_path / str(round_number)
            start = threading.Barrier(RACERS)

            def race(data_dir: Path = data_dir, start: threading.Barrier = start) -> bytes:
                start.wait()
                return load_secret(settings(data_dir), "holder_index_key")

            with ThreadPoolExecutor(RACERS) as pool:
                values = list(pool.map(lambda _: race(), range(RACERS)))
            assert len(set(values)) == 1
            assert len(values[0]) >= MIN_BYTES
            # No temporary file is left behind, whoever won.
            assert os.listdir(data_dir / "keys") == ["holder-index.key"]

    def test_create_reports_exactly_one_winner(self, tmp_path: Path) -> None:
        """create_secret_file returns True for one caller of many racing on one path."""
        path = tmp_path / "secret"
        start = threading.Barrier(RACERS)

        def race(_: int) -> bool:
            start.wait()
            return create_secret_file(path)

        with ThreadPoolExecutor(RACERS) as pool:
            assert sorted(pool.map(race, range(RACERS))) == [False] * (RACERS - 1) + [True]

    def test_processes_creating_at_once_get_identical_bytes(self, tmp_path: Path) -> None:
        """Separate processes (as the licenses and proofs services are) agree too."""
        context = multiprocessing.get_context("spawn")
        with context.Manager() as manager:
            start = manager.Barrier(4)
            with context.Pool(4) as pool:
                values = pool.starmap(_load_in_process, [(str(tmp_path), start)] * 4)
        assert len(set(values)) == 1
        assert (tmp_path / "keys" / "holder-index.key").read_bytes().strip() == values[0]
