"""``certfree demo``: the seed reports' scenarios, played against a running certfree.

    certfree demo [--gateway URL] [--scenario N] [--json] [--verifier-key VKEY]

Everything goes through the gateway's HTTP API, the one intake systems use, as the
development identity (``x-certfree-department/-role/-subject``, which the gateway
forwards only under ``certfree up --insecure-dev``). The demo first makes sure the
catalogue entries it needs exist, creating only missing ones from the shipped samples
through the operator APIs, then plays:

1. Fuqing's construction-permit applicant (report 004): the window lacks the
   construction-drawing review approval, the clerk starts a department verification,
   the housing bureau's officer (listening on the inbox stream) accepts and answers,
   and the clerk verifies the signed answer, all while the applicant waits.
2. A business registration answered from a shared business license (data sharing).
3. Accept with gaps: commitments recorded with a due date, the background sampler
   selects some, and the housing bureau records its check of one.
4. A license revoked, then failing verification at another city's window.
5. An auditor verifying an attestation offline: a receipt file, the artefact and the
   log's verifier key, through ``certfree ledger verify-receipt``.

Holders are synthetic: resident IDs born 1900-01-01 with sequence numbers 00x (no
living person's) and enterprise USCCs with correct check characters; they are printed
masked, and no names are printed. Exit status: 0 when every check of every scenario
passed, 1 when one failed (the step says what), 2 when the demo could not run at all.

The package, one job per module: ``parties`` (who takes part, synthetic holders,
masking), ``report`` (steps and output), ``client`` (the gateway's HTTP API, its
inbox stream, small helpers), ``core`` (:class:`Demo`, one run), one module per
scenario (``permit``, ``sharing``, ``commitments``, ``revocation``, ``receipts``),
and ``running`` (:func:`play` and the ``certfree demo`` command).
"""

from __future__ import annotations

from certfree.demo.core import Demo
from certfree.demo.parties import (
    NEEDED_DEPARTMENTS,
    NEEDED_LICENSE_TYPES,
    NEEDED_PROOF_ITEMS,
    mask,
    synthetic_resident_id,
    synthetic_uscc,
)
from certfree.demo.report import Step
from certfree.demo.running import (
    DEFAULT_GATEWAY,
    EXIT_CANNOT_RUN,
    EXIT_FAILED,
    EXIT_OK,
    SCENARIOS,
    add_demo_command,
    local_verifier_key,
    play,
    run,
)

__all__ = [
    "DEFAULT_GATEWAY",
    "EXIT_CANNOT_RUN",
    "EXIT_FAILED",
    "EXIT_OK",
    "NEEDED_DEPARTMENTS",
    "NEEDED_LICENSE_TYPES",
    "NEEDED_PROOF_ITEMS",
    "SCENARIOS",
    "Demo",
    "Step",
    "add_demo_command",
    "local_verifier_key",
    "mask",
    "play",
    "run",
    "synthetic_resident_id",
    "synthetic_uscc",
]
