"""The ``certfree`` command.

    certfree up [--insecure-dev] [--data-dir DIR]
    certfree ledger checkpoint | verify-receipt | verify-consistency | audit | verifier-key
    certfree keys rotate | list | compromised --department USCC
    certfree pki init | issue | revoke | crl --dir DIR
    certfree tokens issue | list | revoke
    certfree witness --log ORIGIN=VKEY [--name NAME] [--data-dir DIR] [--port PORT]

Later issues add their subcommands here (demo).
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import sys
import time
from pathlib import Path

from certfree import demo, keys_cli, ledger_cli, pki_cli, tokens_cli, witness
from runtime.config import ConfigError, Settings, load
from runtime.logs import configure, get_logger
from runtime.server import wait_for_shutdown_signal

DESCRIPTION = """\
certfree: signed e-licenses, an attestation ledger and inter-department proofs
for certificate-free government service centres.

Settings come from environment variables (docs/settings.md); flags override them.
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="certfree",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser(
        "up",
        help="run the store, the ledger, licenses and proofs services and the gateway",
        description=(
            "Start everything in one process tree and print the addresses. Without "
            "REDIS_URL an embedded Valkey keeps its data under --data-dir, so data "
            "survives restarts. SIGTERM or Ctrl-C drains in-flight requests, then stops."
        ),
    )
    up.add_argument(
        "--insecure-dev",
        action="store_true",
        help=(
            "trust x-certfree-department/-role headers as the caller's identity; for a "
            "developer machine only; refused when CERTFREE_MODE=production"
        ),
    )
    up.add_argument("--data-dir", type=Path, help="where the embedded store keeps its files")
    ledger_cli.add_ledger_commands(commands)
    keys_cli.add_keys_commands(commands)
    pki_cli.add_pki_commands(commands)
    tokens_cli.add_tokens_commands(commands)
    witness.add_witness_command(commands)
    demo.add_demo_command(commands)
    return parser


async def _up(settings: Settings, insecure_dev: bool) -> None:
    from certfree.stack import Stack  # imports every service; not needed for --help

    log = get_logger("certfree")
    started = time.perf_counter()
    stack = await Stack.start(settings, insecure_dev=insecure_dev)
    elapsed = time.perf_counter() - started
    lines = [f"certfree is up in {elapsed:.2f} s"]
    addresses = stack.addresses()
    lines += [f"  {name:<9} {address}" for name, address in addresses.items()]
    if "gateway" in addresses:
        lines.append(f"  {'pages':<9} {addresses['gateway']}/ui/")
    print("\n".join(lines), flush=True)
    log.info("up", startup_seconds=round(elapsed, 3), **addresses)
    received = await wait_for_shutdown_signal()
    log.info("shutting down", signal=received.name, grace_seconds=settings.grace_seconds)
    await stack.stop()


_UNWRITABLE = frozenset({errno.EROFS, errno.EACCES, errno.EPERM, errno.ENOTDIR})
"""Why a data directory cannot be written: read-only, not allowed, or not a directory."""


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``certfree`` console script."""
    args = _parser().parse_args(argv)
    if args.command == "ledger":  # auditor tools: no settings, no logging set-up
        sys.exit(ledger_cli.run(args))
    if args.command == "keys":  # a gRPC client: its own messages, no logging set-up
        sys.exit(keys_cli.run(args))
    if args.command == "pki":  # offline CA files: no settings, no logging set-up
        sys.exit(pki_cli.run(args))
    if args.command == "demo":  # an HTTP client of a running stack: its own output
        sys.exit(demo.run(args))
    if args.command == "tokens":  # the store and the token key: its own messages
        sys.exit(tokens_cli.run(args))
    try:
        settings = load(data_dir=getattr(args, "data_dir", None))
        configure(settings)
        if args.command == "up":
            asyncio.run(_up(settings, args.insecure_dev))
        elif args.command == "witness":
            asyncio.run(witness.serve(settings, args))
    except ConfigError as error:
        sys.exit(f"certfree: configuration error: {error}")
    except OSError as error:
        if error.errno not in _UNWRITABLE or not error.filename:
            raise
        # A read-only root (a container without its volume) or a mistyped --data-dir: say
        # so, instead of a traceback from deep in the start-up.
        sys.exit(
            f"certfree: cannot write {error.filename}: {error.strerror}. Give certfree a "
            "writable data directory (--data-dir or CERTFREE_DATA_DIR; in a container, a "
            "volume there)"
        )
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
