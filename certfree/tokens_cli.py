"""``certfree tokens``: the operator's commands for the gateway's bearer tokens.

    certfree tokens issue --department USCC --role ROLE --subject NAME --scope SCOPE ...
                          (--days N | --hours N) [--data-dir DIR]
    certfree tokens issue --department USCC --role holder --holder-id ID --scope SCOPE ...
                          (--days N | --hours N) [--holder-kind person|organisation]
    certfree tokens list [--json] [--data-dir DIR]
    certfree tokens revoke JTI [--data-dir DIR]

``issue`` signs a token with the key in ``CERTFREE_TOKEN_KEY_FILE`` (the gateway's; in
development created under the data directory if missing), records its metadata in the
store and prints the token on stdout, alone, so ``TOKEN=$(certfree tokens issue ...)``
works; what it is goes to stderr. The token is shown this once: ``list`` shows metadata
only. ``revoke`` refuses the token at every gateway replica from its next request.

A holder's token (role ``holder``) names no staff or system: ``--holder-id`` takes the
holder's resident ID or USCC, and the token's subject is its holder index token under
``CERTFREE_HOLDER_INDEX_KEY_FILE`` (:class:`runtime.holders.HolderIndex`), the key the
services index holders by, so the token reaches that holder's records only. The clear
ID is used for that one computation: never printed, stored or logged.

``--dpop-jkt`` binds the token to a client's key (RFC 9449 DPoP; docs/security.md):
a thief of the token cannot use it without that key.

The store is ``REDIS_URL``, else the embedded store under the data directory: the one a
running ``certfree up`` serves, or, when none runs, started for the command and stopped.

Exit status: 0 done; 1 refused (a value breaks a rule, or no such token); 2 cannot run
(configuration, or the store did not answer).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.scopes import SCOPE_DESCRIPTIONS
from gateway.store import GatewayStore, IssuedToken
from runtime.config import ConfigError, Settings, load
from runtime.errors import InvalidArgument
from runtime.holders import HolderIndex
from runtime.secrets import load_secret
from runtime.store import Store, StoreUnavailable, connect
from runtime.tokens import (
    TOKEN_ROLES,
    TokenError,
    TokenPolicy,
    load_token_key,
    valid_token_id,
)
from runtime.valkey import EmbeddedValkey, EmbeddedValkeyError

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_CANNOT_RUN = 2
CLIENT_NAME = "certfree-tokens"


def add_tokens_commands(subparsers: Any) -> None:
    """Register ``certfree tokens`` and its subcommands on the launcher's subparsers."""
    tokens = subparsers.add_parser(
        "tokens",
        help="the gateway's bearer tokens: issue, list, revoke",
        description=(
            "Scoped, expiring bearer tokens with which intake systems (and staff) call the "
            "gateway's HTTP API. See docs/security.md."
        ),
    )
    commands = tokens.add_subparsers(dest="tokens_command", required=True, metavar="COMMAND")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument("--data-dir", type=Path, help="the embedded store's data directory")

    issue = commands.add_parser("issue", parents=[where], help="issue a token (printed once)")
    issue.add_argument("--department", required=True, metavar="USCC", help="the department")
    issue.add_argument("--role", required=True, choices=TOKEN_ROLES, help="the role it acts in")
    issue.add_argument(
        "--subject", help="system or staff name (never a resident ID); not for role holder"
    )
    issue.add_argument(
        "--holder-id",
        metavar="ID",
        help="role holder only: the holder's resident ID or USCC; the token's subject becomes "
        "its holder index token (the ID itself is never printed, stored or logged)",
    )
    issue.add_argument(
        "--holder-kind",
        choices=("person", "organisation"),
        help="with --holder-id, when an all-digit ID is valid as both a resident ID and a USCC",
    )
    issue.add_argument(
        "--scope",
        action="append",
        required=True,
        choices=sorted(SCOPE_DESCRIPTIONS),
        help="an API group it may call (repeatable)",
    )
    lifetime = issue.add_mutually_exclusive_group(required=True)
    lifetime.add_argument("--days", type=float, help="lifetime in days (systems: up to 30)")
    lifetime.add_argument("--hours", type=float, help="lifetime in hours (people: up to 8)")
    issue.add_argument(
        "--dpop-jkt",
        metavar="THUMBPRINT",
        help="bind the token to the client key with this RFC 7638 JWK thumbprint: the "
        "gateway then wants a DPoP proof (RFC 9449) signed by that key with every request",
    )

    listing = commands.add_parser("list", parents=[where], help="tokens not yet expired")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")

    revoke = commands.add_parser("revoke", parents=[where], help="revoke a token by its id")
    revoke.add_argument("token_id", metavar="JTI", help="the token id `issue` or `list` showed")


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``certfree tokens`` command with the environment's settings."""
    try:
        settings = load(data_dir=args.data_dir)
    except ConfigError as error:
        print(f"certfree tokens: configuration error: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    return asyncio.run(run_with(args, settings))


async def run_with(args: argparse.Namespace, settings: Settings) -> int:
    """Run the command against `settings` (tests call this inside their event loop)."""
    command: Callable[[argparse.Namespace, Settings, GatewayStore], Awaitable[int]] = {
        "issue": _issue,
        "list": _list,
        "revoke": _revoke,
    }[args.tokens_command]
    name = f"certfree tokens {args.tokens_command}"
    try:
        async with _store(settings) as store:
            return await command(args, settings, GatewayStore(store))
    except TokenError as error:
        print(f"{name}: refused: {error}", file=sys.stderr)
        return EXIT_REFUSED
    except ConfigError as error:
        print(f"{name}: configuration error: {error}", file=sys.stderr)
    except (StoreUnavailable, EmbeddedValkeyError) as error:
        print(f"{name}: the store did not answer: {error}", file=sys.stderr)
    return EXIT_CANNOT_RUN


@asynccontextmanager
async def _store(settings: Settings) -> AsyncIterator[Store]:
    """The store at REDIS_URL, the running embedded one, or one started for the command."""
    if settings.redis_url:
        store = await connect(settings.redis_url, client_name=CLIENT_NAME)
        try:
            yield store
        finally:
            await store.close()
        return
    embedded = EmbeddedValkey(settings.data_dir)
    try:
        store = await connect(embedded.url, client_name=CLIENT_NAME)  # `certfree up` runs
    except StoreUnavailable:
        async with embedded:
            store = await connect(embedded.url, client_name=CLIENT_NAME)
            try:
                yield store
            finally:
                await store.close()
        return
    try:
        yield store
    finally:
        await store.close()


async def _issue(args: argparse.Namespace, settings: Settings, store: GatewayStore) -> int:
    subject = _subject(args, settings)
    key = load_token_key(settings)
    lifetime = timedelta(days=args.days) if args.days is not None else timedelta(hours=args.hours)
    claims = TokenPolicy.of(settings).claims(
        department=args.department,
        role=args.role,
        subject=subject,
        scopes=args.scope,
        lifetime=lifetime,
        now=datetime.now(UTC),
        dpop_jkt=args.dpop_jkt,
    )
    token = key.mint(claims)
    await store.record_issued(claims)
    print(
        f"issued token {claims.token_id} for {claims.role} {claims.subject} of "
        f"{claims.department}, scopes {' '.join(claims.scopes)}, expires "
        f"{_when(claims.expires_at)}; it is shown only now",
        file=sys.stderr,
    )
    print(token)
    return EXIT_OK


def _subject(args: argparse.Namespace, settings: Settings) -> str:
    """The token's subject: `--subject`, or for role holder the index token of `--holder-id`
    under the deployment's holder index key (what the services compare requests with)."""
    holder_id: str | None = args.holder_id
    if args.role != "holder":
        if holder_id is not None or args.holder_kind is not None:
            raise TokenError("--holder-id and --holder-kind are for role holder only")
        if args.subject is None:
            raise TokenError(f"a {args.role} token needs --subject")
        return str(args.subject)
    if args.subject is not None:
        raise TokenError(
            "a holder token's subject is the holder's: give --holder-id, not --subject"
        )
    if holder_id is None:
        raise TokenError("a holder token needs --holder-id (the holder's resident ID or USCC)")
    index = HolderIndex(load_secret(settings, "holder_index_key"))
    try:
        return index.of_identifier(holder_id, args.holder_kind, "--holder-id")
    except InvalidArgument as error:
        raise TokenError(error.message) from None  # the message never holds the ID


async def _list(args: argparse.Namespace, settings: Settings, store: GatewayStore) -> int:
    records = await store.issued(now=int(datetime.now(UTC).timestamp()))
    if args.json:
        for record in records:
            print(json.dumps(asdict(record)))
        return EXIT_OK
    print(_table(records))
    return EXIT_OK


def _table(records: list[IssuedToken]) -> str:
    rows = [("TOKEN ID", "DEPARTMENT", "ROLE", "SUBJECT", "SCOPES", "EXPIRES", "REVOKED")]
    rows += [
        (
            r.token_id,
            r.department,
            r.role,
            r.subject,
            ",".join(r.scopes),
            _when(r.expires_at),
            _when(r.revoked_at) if r.revoked_at else "-",
        )
        for r in records
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


async def _revoke(args: argparse.Namespace, settings: Settings, store: GatewayStore) -> int:
    if not valid_token_id(args.token_id):
        raise TokenError("that is not a token id (16-64 of [A-Za-z0-9_-])")
    policy = TokenPolicy.of(settings)
    record = await store.revoke(
        args.token_id,
        now=int(datetime.now(UTC).timestamp()),
        leeway_seconds=policy.leeway_seconds,
        unknown_ttl_seconds=int(
            max(policy.max_person_lifetime, policy.max_system_lifetime).total_seconds()
        ),
    )
    if record is None:
        print(
            f"certfree tokens revoke: no issued token {args.token_id} is on record; it is "
            "refused anyway until the longest lifetime a token may have has passed",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    print(f"revoked token {record.token_id} ({record.role} {record.subject})")
    return EXIT_OK


def _when(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
