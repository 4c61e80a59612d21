"""Settings: one table, typed values, and start-up failures that name the setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.config import ConfigError, load, render_table

ROOT = Path(__file__).resolve().parent.parent


class TestLoad:
    """Environment values become typed settings, or a ConfigError naming the variable."""

    def test_defaults_need_no_environment(self) -> None:
        """With nothing set, certfree runs on the embedded store on loopback."""
        settings = load({})
        assert settings.redis_url == ""
        assert settings.listen_host == "127.0.0.1"
        assert settings.target("ledger") == "127.0.0.1:50051"

    def test_environment_and_overrides_are_typed(self) -> None:
        """Numbers become numbers; flags override the environment."""
        settings = load(
            {"CERTFREE_LEDGER_PORT": "6000", "CERTFREE_DATA_DIR": "/srv"}, ledger_port=7
        )
        assert settings.ledger_port == 7
        assert settings.data_dir == Path("/srv")

    @pytest.mark.parametrize(
        ("environ", "named"),
        [
            ({"CERTFREE_GATEWAY_PORT": "http"}, "CERTFREE_GATEWAY_PORT"),
            ({"CERTFREE_GATEWAY_PORT": "70000"}, "CERTFREE_GATEWAY_PORT"),
            ({"CERTFREE_MODE": "prod"}, "CERTFREE_MODE"),
            ({"CERTFREE_LOG_FORMAT": "xml"}, "CERTFREE_LOG_FORMAT"),
            ({"CERTFREE_LOG_LEVEL": "loud"}, "CERTFREE_LOG_LEVEL"),
            ({"CERTFREE_GRACE_SECONDS": "-1"}, "CERTFREE_GRACE_SECONDS"),
            ({"REDIS_URL": "http://cache:6379"}, "REDIS_URL"),
            ({"CERTFREE_LEDGER_ORIGIN": "two words"}, "CERTFREE_LEDGER_ORIGIN"),
        ],
    )
    def test_invalid_value_names_its_variable(self, environ: dict[str, str], named: str) -> None:
        """Each bad value fails with a message that starts from the variable's name."""
        with pytest.raises(ConfigError, match=named):
            load(environ)


class TestDocumentation:
    """docs/settings.md shows exactly the settings the code reads."""

    def test_settings_doc_contains_the_rendered_table(self) -> None:
        """Regenerate with `python -m runtime.config` when this fails."""
        assert render_table() in (ROOT / "docs" / "settings.md").read_text()


class TestStartupFailure:
    """`certfree up` refuses bad configuration before starting anything."""

    def _up(self, tmp_path: Path, *args: str, **environ: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "CERTFREE_DATA_DIR": str(tmp_path), **environ}
        return subprocess.run(
            [sys.executable, "-m", "certfree", "up", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def test_help_explains_the_commands(self, tmp_path: Path) -> None:
        """`certfree --help` names `up` and says what it runs."""
        result = subprocess.run(
            [sys.executable, "-m", "certfree", "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0
        assert "up" in result.stdout and "gateway" in result.stdout

    def test_bad_setting_exits_naming_it(self, tmp_path: Path) -> None:
        """An invalid port stops start-up with the variable named and no traceback."""
        result = self._up(tmp_path, CERTFREE_GATEWAY_PORT="eighty")
        assert result.returncode != 0
        assert "CERTFREE_GATEWAY_PORT" in result.stderr
        assert "Traceback" not in result.stderr

    def test_insecure_dev_is_refused_in_production(self, tmp_path: Path) -> None:
        """Production mode never runs with the development identity."""
        result = self._up(tmp_path, "--insecure-dev", CERTFREE_MODE="production")
        assert result.returncode != 0
        assert "--insecure-dev is refused" in result.stderr
        assert not (tmp_path / "store").exists(), "nothing was started"
