"""Holder binding: a caller in role ``holder`` reaches only their own records.

A holder's identity is their holder index token (:class:`runtime.holders.HolderIndex`,
``p:…`` for a person, ``o:…`` for an organisation). ``certfree tokens issue --role
holder --holder-id <ID>`` puts it in the bearer token's ``sub``; the gateway forwards it
as the caller's subject (:class:`runtime.identity.Caller`). Every RPC the policy opens to
role holder and that names a holder computes the named holder's index token with the
deployment's key and asks :func:`own_holder` before it reads or records anything::

    token = index.of_ref(request.holder)            # the service's keyed HMAC
    own = own_holder(current_caller(), token)       # PermissionDenied for another holder

This is the one place the rule lives; the licenses and proofs services both call it.
Comparing index tokens, never identifiers, keeps the clear ID out of the comparison and
out of every message: a refusal says that the holders differ, not who they are.
"""

from __future__ import annotations

import hmac

from genproto.certfree.common.v1 import common_pb2
from runtime.errors import PermissionDenied
from runtime.identity import Caller


def own_holder(caller: Caller, holder_token: str) -> bool:
    """Whether `caller` is the holder whose index token is `holder_token`, reading their own.

    A caller in role holder must be that holder (their subject is their index token);
    naming any other holder is refused with PERMISSION_DENIED, reason ``HOLDER_MISMATCH``.
    Any other role gets False: its own rules (purpose, case, recording) apply.
    """
    if caller.role != common_pb2.ROLE_HOLDER:
        return False
    # compare_digest: equal-time, so the refusal's timing says nothing about the token.
    if not hmac.compare_digest(caller.subject.encode(), holder_token.encode()):
        raise PermissionDenied(
            "a holder may read only their own records; the request names another holder",
            reason=common_pb2.HOLDER_MISMATCH,
            metadata={"role": "holder"},
        )
    return True
