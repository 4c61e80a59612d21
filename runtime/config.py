"""Settings: read once at start-up from the environment into one frozen object.

Every setting is a field of :class:`Settings` with its environment variable, default
and meaning in the field's metadata; ``docs/settings.md`` is rendered from them
(``python -m runtime.config``) and a test keeps the two the same. An invalid value
fails start-up with :class:`ConfigError`, whose message names the variable.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

LogFormat = Literal["auto", "json", "console"]
Mode = Literal["development", "production"]


class ConfigError(ValueError):
    """A setting is missing or invalid; the message names the environment variable."""


def _setting(env: str, default: Any, doc: str) -> Any:
    return field(default=default, metadata={"env": env, "doc": doc})


@dataclass(frozen=True)
class Settings:
    """Everything certfree reads from its environment."""

    mode: Mode = _setting(
        "CERTFREE_MODE",
        "development",
        "`development` or `production`. Production refuses `--insecure-dev`.",
    )
    data_dir: Path = _setting(
        "CERTFREE_DATA_DIR",
        Path("var"),
        "Where the embedded store keeps its files (append-only file, socket, log).",
    )
    redis_url: str = _setting(
        "REDIS_URL",
        "",
        "A Redis or Valkey (>= 7.2) server to use; empty starts the embedded Valkey.",
    )
    listen_host: str = _setting(
        "CERTFREE_LISTEN_HOST",
        "127.0.0.1",
        "Address the gRPC servers and the gateway bind; `0.0.0.0` in a container.",
    )
    ledger_port: int = _setting("CERTFREE_LEDGER_PORT", 50051, "gRPC port of the ledger.")
    licenses_port: int = _setting("CERTFREE_LICENSES_PORT", 50052, "gRPC port of licenses.")
    proofs_port: int = _setting("CERTFREE_PROOFS_PORT", 50053, "gRPC port of proofs.")
    gateway_port: int = _setting("CERTFREE_GATEWAY_PORT", 8080, "HTTP port of the gateway.")
    ledger_target: str = _setting(
        "CERTFREE_LEDGER_TARGET",
        "",
        "gRPC target the gateway calls for the ledger; empty: `listen_host:ledger_port`.",
    )
    licenses_target: str = _setting(
        "CERTFREE_LICENSES_TARGET",
        "",
        "gRPC target for licenses; empty: `listen_host:licenses_port`.",
    )
    proofs_target: str = _setting(
        "CERTFREE_PROOFS_TARGET",
        "",
        "gRPC target for proofs; empty: `listen_host:proofs_port`.",
    )
    log_format: LogFormat = _setting(
        "CERTFREE_LOG_FORMAT",
        "auto",
        "`json`, `console`, or `auto`: console on a terminal in development, JSON otherwise.",
    )
    log_level: str = _setting(
        "CERTFREE_LOG_LEVEL", "info", "`debug`, `info`, `warning` or `error`."
    )
    max_message_bytes: int = _setting(
        "CERTFREE_MAX_MESSAGE_BYTES",
        4 * 1024 * 1024,
        "Largest gRPC message a server or client accepts or sends (bytes).",
    )
    max_body_bytes: int = _setting(
        "CERTFREE_MAX_BODY_BYTES",
        1024 * 1024,
        "Largest HTTP request body the gateway accepts (bytes); larger gets 413.",
    )
    grace_seconds: float = _setting(
        "CERTFREE_GRACE_SECONDS",
        10.0,
        "On SIGTERM, how long in-flight RPCs may run before they are cancelled.",
    )
    keepalive_seconds: int = _setting(
        "CERTFREE_KEEPALIVE_SECONDS",
        30,
        "Interval of HTTP/2 keepalive pings on idle gRPC connections.",
    )
    max_connection_age_seconds: int = _setting(
        "CERTFREE_MAX_CONNECTION_AGE_SECONDS",
        300,
        "Servers close connections after this age so clients rebalance across replicas.",
    )
    upstream_timeout_seconds: float = _setting(
        "CERTFREE_UPSTREAM_TIMEOUT_SECONDS",
        10.0,
        "Deadline the gateway sets on each unary gRPC call it makes.",
    )
    ledger_origin: str = _setting(
        "CERTFREE_LEDGER_ORIGIN",
        "certfree.localhost/ledger",
        "The ledger's log origin (C2SP checkpoint origin line); names its store keys.",
    )
    ledger_key_file: Path = _setting(
        "CERTFREE_LEDGER_KEY_FILE",
        Path(""),
        "The log's signed-note private key (`PRIVATE+KEY+...`); empty: "
        "`<data_dir>/keys/ledger.key`, created on first start in development only.",
    )
    ledger_max_batch: int = _setting(
        "CERTFREE_LEDGER_MAX_BATCH",
        1024,
        "Most entries the sequencer integrates, signs and fsyncs as one batch.",
    )
    ledger_lease_ms: int = _setting(
        "CERTFREE_LEDGER_LEASE_MS",
        5000,
        "Lifetime of the sequencer lease; renewed every third of it. A replica takes over "
        "this long after the sequencer stopped renewing.",
    )
    ledger_witnesses: str = _setting(
        "CERTFREE_LEDGER_WITNESSES",
        "",
        "Witnesses that cosign the log's checkpoints (C2SP tlog-witness): space-separated "
        "`<witness vkey>@<URL>` entries.",
    )
    ledger_witness_quorum: int = _setting(
        "CERTFREE_LEDGER_WITNESS_QUORUM",
        0,
        "How many witnesses must cosign a checkpoint before it is published at "
        "`/tlog/checkpoint`; 0 publishes checkpoints unwitnessed.",
    )
    ledger_max_delay_ms: float = _setting(
        "CERTFREE_LEDGER_MAX_DELAY_MS",
        5.0,
        "Longest the sequencer waits for more entries before closing a batch.",
    )
    public_url: str = _setting(
        "CERTFREE_PUBLIC_URL",
        "http://localhost:8080",
        "The gateway's public base URL; licenses' status-list URIs and issuers' JWKS "
        "addresses are made from it, so it must be what verifiers can fetch.",
    )
    holder_index_key_file: Path = _setting(
        "CERTFREE_HOLDER_INDEX_KEY_FILE",
        Path(""),
        "The secret key of the keyed HMAC that indexes holders (never their IDs in clear); "
        "empty: `<data_dir>/keys/holder-index.key`, created on first start in development only.",
    )
    signing_passphrase_file: Path = _setting(
        "CERTFREE_SIGNING_PASSPHRASE_FILE",
        Path(""),
        "The passphrase that seals departments' private signing keys in the store (JWE, "
        "PBES2); empty: `<data_dir>/keys/signing.passphrase`, created on first start in "
        "development only.",
    )
    tls_cert_file: Path = _setting(
        "CERTFREE_TLS_CERT_FILE",
        Path(""),
        "This process's certificate chain (PEM) from the deployment CA (`certfree pki issue`), "
        "presented by its gRPC servers and its clients; with the key and CA files it turns on "
        "mutual TLS. Required in production. Re-read by servers when it changes.",
    )
    tls_key_file: Path = _setting(
        "CERTFREE_TLS_KEY_FILE",
        Path(""),
        "The private key (PEM) of `CERTFREE_TLS_CERT_FILE`. Required in production.",
    )
    tls_ca_file: Path = _setting(
        "CERTFREE_TLS_CA_FILE",
        Path(""),
        "The deployment CA certificate(s) (PEM) every gRPC peer must be issued by. "
        "Required in production.",
    )
    tls_crl_file: Path = _setting(
        "CERTFREE_TLS_CRL_FILE",
        Path(""),
        "Optional: the deployment CA's signed CRL (PEM, `certfree pki crl`); servers re-read "
        "it when it changes and refuse revoked peers from their next call, without a restart.",
    )
    token_key_file: Path = _setting(
        "CERTFREE_TOKEN_KEY_FILE",
        Path(""),
        "The gateway's bearer-token signing key: an Ed25519 private key (PEM, `openssl "
        "genpkey -algorithm ed25519`) or at least 32 random bytes it is derived from; empty: "
        "`<data_dir>/keys/token.key`, created on first start in development only.",
    )
    token_previous_key_files: str = _setting(
        "CERTFREE_TOKEN_PREVIOUS_KEY_FILES",
        "",
        "Token key files this gateway used before a rotation (space-separated paths, same "
        "format as CERTFREE_TOKEN_KEY_FILE): the tokens they signed are still accepted, by "
        "their `kid`, until they expire. New tokens are signed with CERTFREE_TOKEN_KEY_FILE.",
    )
    token_audience: str = _setting(
        "CERTFREE_TOKEN_AUDIENCE",
        "certfree-gateway",
        "The `aud` of the gateway's bearer tokens; a token for another audience is refused.",
    )
    token_max_hours: int = _setting(
        "CERTFREE_TOKEN_MAX_HOURS",
        8,
        "Longest lifetime of a bearer token for a person (clerk, officer, auditor ...), hours.",
    )
    token_max_system_days: int = _setting(
        "CERTFREE_TOKEN_MAX_SYSTEM_DAYS",
        30,
        "Longest lifetime of a bearer token for an intake system (role `intake`), days.",
    )
    token_leeway_seconds: int = _setting(
        "CERTFREE_TOKEN_LEEWAY_SECONDS",
        60,
        "Clock skew allowed when the gateway checks a token's `nbf`, `iat` and `exp`.",
    )
    gateway_rate_per_minute: int = _setting(
        "CERTFREE_GATEWAY_RATE_PER_MINUTE",
        1200,
        "Requests per minute one caller (token subject and department, else client IP) may "
        "make, shared by all gateway replicas through the store; bursts up to a minute's "
        "worth. 0 turns the limit off; over it the gateway answers 429 with Retry-After.",
    )
    catalog_file: Path = _setting(
        "CERTFREE_CATALOG_FILE",
        Path(""),
        "A license catalogue seed (YAML or JSON: departments, license types) loaded at "
        "start-up; entries not yet in the store are added, none overwritten. Empty: the "
        "shipped sample in development, nothing in production.",
    )
    trusted_deployments_file: Path = _setting(
        "CERTFREE_TRUSTED_DEPLOYMENTS_FILE",
        Path(""),
        "The verifier's trust file (YAML or JSON): other deployments whose licenses verify "
        "here (their public URL, log verifier key, departments' JWK Sets and license types), "
        "and optionally this deployment's own log verifier key. Empty: none.",
    )
    status_list_ttl_seconds: int = _setting(
        "CERTFREE_STATUS_LIST_TTL_SECONDS",
        300,
        "How long verifiers may cache a status list (its `ttl`); its `exp` is ten times this.",
    )
    licenses_status_cache: int = _setting(
        "CERTFREE_LICENSES_STATUS_CACHE",
        1,
        "1: the licenses service keeps status-list bytes in memory for VerifyLicense, "
        "dropped when the store's CLIENT TRACKING reports a change (docs/licenses.md); a "
        "store that refuses CLIENT TRACKING gets one warning and uncached reads. 0: every "
        "verify reads the store.",
    )

    proofs_catalog_file: Path = _setting(
        "CERTFREE_PROOFS_CATALOG_FILE",
        Path(""),
        "A proof catalogue seed (YAML or JSON: proof items with their routes) loaded at "
        "start-up; items not yet in the store are added, none overwritten. Empty: the "
        "shipped sample in development, nothing in production.",
    )
    working_hours: str = _setting(
        "CERTFREE_WORKING_HOURS",
        "09:00-12:00,13:30-17:30",
        "Working hours of a working day (one or more `HH:MM-HH:MM` periods, local time): "
        "proof deadlines (限时办结) count working time only.",
    )
    working_weekdays: str = _setting(
        "CERTFREE_WORKING_WEEKDAYS",
        "1-5",
        "Working weekdays, ISO numbers (1 = Monday), as a range or a comma list.",
    )
    holidays: str = _setting(
        "CERTFREE_HOLIDAYS",
        "",
        "Public holidays that are not working days: dates `YYYY-MM-DD` or ranges "
        "`YYYY-MM-DD..YYYY-MM-DD`, comma-separated.",
    )
    makeup_workdays: str = _setting(
        "CERTFREE_MAKEUP_WORKDAYS",
        "",
        "Weekend dates that are working days (调休), comma-separated `YYYY-MM-DD`.",
    )
    time_zone: str = _setting(
        "CERTFREE_TIME_ZONE",
        "Asia/Shanghai",
        "The IANA time zone of the working calendar.",
    )
    proofs_warning_before_minutes: int = _setting(
        "CERTFREE_PROOFS_WARNING_BEFORE_MINUTES",
        240,
        "Working minutes before the due time at which a proof request turns yellow (预警), "
        "for items that do not set their own.",
    )
    proofs_expiry_days: int = _setting(
        "CERTFREE_PROOFS_EXPIRY_DAYS",
        30,
        "Calendar days after creation at which a proof request nobody finished expires.",
    )
    proofs_sampling_rate: float = _setting(
        "CERTFREE_PROOFS_SAMPLING_RATE",
        0.1,
        "Share (0 to 1) of commitments (告知承诺) that sampling selects for checking, for "
        "items that do not set their own.",
    )
    proofs_sweep_seconds: float = _setting(
        "CERTFREE_PROOFS_SWEEP_SECONDS",
        5.0,
        "How often the deadline sweeper and the commitment sampler run.",
    )
    rate_limit_window_seconds: int = _setting(
        "CERTFREE_RATE_LIMIT_WINDOW_SECONDS",
        60,
        "The window of the per-department rate limits on expensive RPCs (docs/authorisation.md); "
        "counted in the store, so shared by every replica.",
    )
    rate_limits: str = _setting(
        "CERTFREE_RATE_LIMITS",
        "",
        "Overrides of the per-department limits per window on expensive RPCs, comma-separated "
        "`RPC=calls` by the RPC's short name (`IssueLicense=600,BatchAppend=0`; 0 turns a limit "
        "off). Empty: the policy's defaults (docs/authorisation.md).",
    )

    metrics_port: int = _setting(
        "CERTFREE_METRICS_PORT",
        9464,
        "Port on which the process serves Prometheus metrics at `/metrics` (the gateway "
        "also serves them on its own HTTP port); 0 turns the listener off.",
    )
    tracing_endpoint: str = _setting(
        "CERTFREE_TRACING_ENDPOINT",
        "",
        "OTLP/HTTP traces URL of an OpenTelemetry collector (e.g. "
        "`http://otel-collector:4318/v1/traces`); empty: tracing off, and OpenTelemetry "
        "is not even imported. Needs the `tracing` extra.",
    )
    tracing_sample_ratio: float = _setting(
        "CERTFREE_TRACING_SAMPLE_RATIO",
        1.0,
        "Share (0 to 1) of new traces recorded when tracing is on; a call that arrives "
        "with a sampled `traceparent` is always recorded.",
    )

    def __post_init__(self) -> None:
        for name, low, high in (
            ("ledger_port", 0, 65535),
            ("licenses_port", 0, 65535),
            ("proofs_port", 0, 65535),
            ("gateway_port", 0, 65535),
            ("metrics_port", 0, 65535),
            ("max_message_bytes", 1024, 64 * 1024 * 1024),
            ("max_body_bytes", 1024, 64 * 1024 * 1024),
            ("keepalive_seconds", 1, 3600),
            ("max_connection_age_seconds", 1, 7 * 24 * 3600),
            ("ledger_max_batch", 1, 65536),
            ("ledger_lease_ms", 100, 600_000),
            ("status_list_ttl_seconds", 10, 86_400),
            ("licenses_status_cache", 0, 1),
            ("proofs_warning_before_minutes", 0, 100_000),
            ("proofs_expiry_days", 1, 3_650),
            ("token_max_hours", 1, 24 * 366),
            ("token_max_system_days", 1, 3_660),
            ("token_leeway_seconds", 0, 600),
            ("gateway_rate_per_minute", 0, 6_000_000),
        ):
            value = getattr(self, name)
            if not low <= value <= high:
                raise ConfigError(f"{_env(name)}={value} is out of range [{low}, {high}]")
        witnesses = len(self.ledger_witnesses.split())
        if not 0 <= self.ledger_witness_quorum <= witnesses:
            raise ConfigError(
                f"CERTFREE_LEDGER_WITNESS_QUORUM={self.ledger_witness_quorum} must be between 0 "
                f"and the {witnesses} witness(es) of CERTFREE_LEDGER_WITNESSES"
            )
        if not 0 <= self.ledger_max_delay_ms <= 1000:
            raise ConfigError("CERTFREE_LEDGER_MAX_DELAY_MS must be between 0 and 1000")
        for name in ("grace_seconds", "upstream_timeout_seconds"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{_env(name)} must be a positive number of seconds")
        if not 0 <= self.proofs_sampling_rate <= 1:
            raise ConfigError("CERTFREE_PROOFS_SAMPLING_RATE must be between 0 and 1")
        if not 0 < self.proofs_sweep_seconds <= 3600:
            raise ConfigError("CERTFREE_PROOFS_SWEEP_SECONDS must be in (0, 3600]")
        if not 1 <= self.rate_limit_window_seconds <= 3600:
            raise ConfigError("CERTFREE_RATE_LIMIT_WINDOW_SECONDS must be in [1, 3600]")
        self.rate_limit_overrides  # noqa: B018 (parses CERTFREE_RATE_LIMITS, raising ConfigError)
        if not 0 <= self.tracing_sample_ratio <= 1:
            raise ConfigError("CERTFREE_TRACING_SAMPLE_RATIO must be between 0 and 1")
        if self.tracing_endpoint and not self.tracing_endpoint.startswith(("http://", "https://")):
            raise ConfigError("CERTFREE_TRACING_ENDPOINT must be an http(s) URL")
        if self.log_level.lower() not in ("debug", "info", "warning", "error"):
            raise ConfigError(f"CERTFREE_LOG_LEVEL={self.log_level!r} is not a log level")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError("REDIS_URL must start with redis://, rediss:// or unix://")
        if not self.ledger_origin or any(c.isspace() for c in self.ledger_origin):
            raise ConfigError("CERTFREE_LEDGER_ORIGIN must be non-empty and contain no spaces")
        if not self.token_audience or any(c.isspace() for c in self.token_audience):
            raise ConfigError("CERTFREE_TOKEN_AUDIENCE must be non-empty and contain no spaces")
        if not self.public_url.startswith(("http://", "https://")) or self.public_url.endswith("/"):
            raise ConfigError("CERTFREE_PUBLIC_URL must be an http(s) URL without a trailing /")
        tls = (self.tls_cert_file, self.tls_key_file, self.tls_ca_file)
        if any(_set(f) for f in tls) and not all(_set(f) for f in tls):
            raise ConfigError(
                f"{TLS_SETTINGS} must be set together (mutual TLS needs all three) or not at all"
            )
        if _set(self.tls_crl_file) and not self.tls_configured:
            raise ConfigError(f"CERTFREE_TLS_CRL_FILE needs {TLS_SETTINGS}")

    @property
    def tls_configured(self) -> bool:
        """True when the mutual-TLS files are set (servers and clients then use them)."""
        return all(_set(f) for f in (self.tls_cert_file, self.tls_key_file, self.tls_ca_file))

    @property
    def rate_limit_overrides(self) -> dict[str, int]:
        """CERTFREE_RATE_LIMITS as RPC short name to calls per window (0: no limit)."""
        overrides: dict[str, int] = {}
        for item in filter(None, (part.strip() for part in self.rate_limits.split(","))):
            name, _, calls = item.partition("=")
            if not (name.strip().isidentifier() and calls.strip().isdigit()):
                raise ConfigError(
                    f"CERTFREE_RATE_LIMITS: {item!r} is not `RPC=calls` (e.g. IssueLicense=600)"
                )
            overrides[name.strip()] = int(calls)
        return overrides

    @property
    def ledger_key_path(self) -> Path:
        """Where the log's private key is read from."""
        if str(self.ledger_key_file) not in ("", "."):
            return self.ledger_key_file
        return self.data_dir / "keys" / "ledger.key"

    def key_path(
        self, name: Literal["holder_index_key", "signing_passphrase", "token_key"]
    ) -> Path:
        """Where a secret file is read from (its setting, or the default under data_dir)."""
        configured: Path = getattr(self, f"{name}_file")
        if str(configured) not in ("", "."):
            return configured
        filename = {
            "holder_index_key": "holder-index.key",
            "signing_passphrase": "signing.passphrase",
            "token_key": "token.key",
        }
        return self.data_dir / "keys" / filename[name]

    def target(self, service: Literal["ledger", "licenses", "proofs"]) -> str:
        """The gRPC target at which `service` answers."""
        explicit: str = getattr(self, f"{service}_target")
        port: int = getattr(self, f"{service}_port")
        return explicit or f"{self.listen_host}:{port}"


TLS_SETTINGS = "CERTFREE_TLS_CERT_FILE, CERTFREE_TLS_KEY_FILE and CERTFREE_TLS_CA_FILE"
"""The settings that turn on mutual TLS, for messages that name them."""


def _set(path: Path) -> bool:
    return str(path) not in ("", ".")


def _env(name: str) -> str:
    env: str = Settings.__dataclass_fields__[name].metadata["env"]
    return env


def _parse(setting: dataclasses.Field[Any], raw: str) -> Any:
    env = setting.metadata["env"]
    kind = setting.type
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "Path":
            return Path(raw)
    except ValueError:
        raise ConfigError(f"{env}={raw!r} is not a valid {kind}") from None
    choices = get_args({"Mode": Mode, "LogFormat": LogFormat}.get(str(kind), str))
    if choices and raw not in choices:
        raise ConfigError(f"{env}={raw!r} must be one of: {', '.join(choices)}")
    return raw


def load(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Build Settings from `environ` (default: the process environment) and overrides.

    Overrides are already-typed values from command-line flags and win over the
    environment. Raises ConfigError naming the variable on the first bad value.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in dataclasses.fields(Settings):
        raw = environ.get(setting.metadata["env"])
        if raw is not None and raw != "":
            values[setting.name] = _parse(setting, raw.strip())
    values.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**values)


def render_table() -> str:
    """The Markdown table of every setting, as docs/settings.md includes it."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for setting in dataclasses.fields(Settings):
        default = setting.default
        shown = "(empty)" if str(default) in ("", ".") else f"`{default}`"
        rows.append(f"| `{setting.metadata['env']}` | {shown} | {setting.metadata['doc']} |")
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_table())
