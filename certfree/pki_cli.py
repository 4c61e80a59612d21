"""``certfree pki``: the deployment CA that issues every gRPC peer's certificate.

    certfree pki init   --dir DIR [--name NAME]
    certfree pki issue  --dir DIR --department USCC --role ROLE [--days N] [--dns NAME ...]
                        [--subject NAME] --out PREFIX
    certfree pki revoke --dir DIR SERIAL|CERTFILE
    certfree pki crl    --dir DIR --out FILE [--days N]

Offline: no settings, no server. ``issue`` writes ``PREFIX.crt`` and ``PREFIX.key``
(mode 0600) and prints the serial; ``crl`` writes the CA's signed CRL, which servers
re-read from ``CERTFREE_TLS_CRL_FILE`` when it changes (docs/security.md).
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization

from runtime.pki import (
    CA_CERT_FILE,
    CA_KEY_FILE,
    CRL_DAYS,
    LEAF_DAYS,
    ROLES,
    CaDirectory,
    PkiError,
    format_serial,
    identity_of,
    issued_by,
    load_certificates,
    parse_serial,
    write_atomic,
    write_private,
)

EXIT_OK = 0
EXIT_ERROR = 1


def add_pki_commands(subparsers: Any) -> None:
    """Register ``certfree pki`` and its subcommands on the launcher's subparsers."""
    pki = subparsers.add_parser(
        "pki",
        help="the deployment CA: init, issue, revoke, crl (mutual TLS certificates)",
        description=(
            "Create the deployment CA and issue the certificates with which gRPC peers "
            "prove their department and role (SAN URI urn:certfree:<role>:<USCC>)."
        ),
    )
    commands = pki.add_subparsers(dest="pki_command", required=True, metavar="COMMAND")
    where = argparse.ArgumentParser(add_help=False)
    where.add_argument(
        "--dir", type=Path, required=True, help=f"the CA directory ({CA_CERT_FILE}, {CA_KEY_FILE})"
    )

    init = commands.add_parser("init", parents=[where], help="create the deployment CA")
    init.add_argument("--name", default="certfree deployment CA", help="the CA's common name")

    issue = commands.add_parser(
        "issue", parents=[where], help="issue a client-and-server certificate"
    )
    issue.add_argument("--department", required=True, metavar="USCC", help="the department")
    issue.add_argument("--role", required=True, choices=ROLES, help="the role it acts in")
    issue.add_argument("--days", type=int, default=LEAF_DAYS, help="lifetime in days")
    issue.add_argument(
        "--dns",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name or IP address clients dial it at (servers only; repeatable)",
    )
    issue.add_argument(
        "--subject", default="", help="staff number or system name (never a resident ID)"
    )
    issue.add_argument(
        "--out", type=Path, required=True, metavar="PREFIX", help="writes PREFIX.crt, PREFIX.key"
    )

    revoke = commands.add_parser("revoke", parents=[where], help="revoke a certificate")
    revoke.add_argument("which", metavar="SERIAL|CERTFILE", help="hex serial or a PEM file")

    crl = commands.add_parser("crl", parents=[where], help="write the CA's signed CRL (PEM)")
    crl.add_argument("--out", type=Path, required=True, metavar="FILE", help="where to write it")
    crl.add_argument("--days", type=int, default=CRL_DAYS, help="days until its nextUpdate")


def run(args: argparse.Namespace) -> int:
    """Run the parsed ``certfree pki`` command; return its exit status."""
    directory = CaDirectory(args.dir)
    now = datetime.now(UTC)
    try:
        if args.pki_command == "init":
            directory.init(args.name, now=now)
            print(f"created CA {args.name!r} in {args.dir}")
            print(f"  trust this everywhere: {args.dir / CA_CERT_FILE}")
            print(f"  keep this secret:      {args.dir / CA_KEY_FILE} (mode 0600)")
        elif args.pki_command == "issue":
            issued = directory.load().issue(
                args.department,
                args.role,
                now=now,
                days=args.days,
                dns=args.dns,
                subject=args.subject,
            )
            cert_file = args.out.with_name(args.out.name + ".crt")
            key_file = args.out.with_name(args.out.name + ".key")
            write_private(key_file, issued.private_key_pem)
            write_atomic(cert_file, issued.certificate_pem)
            print(f"serial={format_serial(issued.serial)}")
            print(f"  {identity_of(issued.certificate).uri}")
            print(f"  certificate: {cert_file}")
            print(f"  private key: {key_file} (mode 0600)")
        elif args.pki_command == "revoke":
            serial = _serial_of(directory, args.which)
            fresh = directory.revoke(serial, now=now)
            state = "revoked" if fresh else "was already revoked"
            print(f"serial={format_serial(serial)} {state}; run `certfree pki crl` to publish it")
        elif args.pki_command == "crl":
            crl = directory.next_crl(now=now, days=args.days)
            write_atomic(args.out, crl.public_bytes(serialization.Encoding.PEM))
            print(f"wrote CRL {args.out} ({len(directory.revoked())} revoked)")
    except (PkiError, OSError) as error:
        print(f"certfree pki {args.pki_command}: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    return EXIT_OK


def _serial_of(directory: CaDirectory, which: str) -> int:
    """The serial named on the command line, or the serial of the CA's certificate in a file."""
    path = Path(which)
    if not path.is_file():
        return parse_serial(which)
    certificate = load_certificates(path.read_bytes())[0]
    if not issued_by(certificate, [directory.load().certificate]):
        raise PkiError(f"{path} was not issued by the CA in {directory.path}")
    return certificate.serial_number
