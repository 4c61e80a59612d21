"""The gRPC server every service runs: health, reflection, identity, errors, logs, shutdown."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import grpc
import protovalidate
import pytest
import structlog
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

import services.licenses
import services.proofs
from genproto.buf.validate import validate_pb2
from genproto.certfree.ledger.v1 import ledger_pb2, ledger_pb2_grpc
from genproto.certfree.licenses.v1 import licenses_pb2
from genproto.certfree.proofs.v1 import proofs_pb2, proofs_pb2_grpc
from runtime.errors import InvalidArgument
from runtime.identity import NoIdentity
from runtime.server import Registration, RequestValidator, contract_only, has_rules
from tests.conftest import caller


def details(error: grpc.aio.AioRpcError) -> dict[str, Any]:
    """The rich details of a failed call, by type name."""
    status = rpc_status.from_call(error)
    assert status is not None, "the error carried no google.rpc.Status"
    found: dict[str, Any] = {}
    for any_detail in status.details:
        for kind in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest):
            if any_detail.Is(kind.DESCRIPTOR):
                message = kind()
                any_detail.Unpack(message)
                found[kind.DESCRIPTOR.name] = message
    return found


class _Failing(ledger_pb2_grpc.LedgerServiceServicer):
    """A ledger whose GetEntry fails unexpectedly, sets trailing metadata of its own, or
    sleeps, to exercise the interceptor."""

    delay = 0.0

    async def GetEntry(self, request: Any, context: Any) -> Any:
        if request.index == 13:
            raise RuntimeError("secret internal detail 350102199001011234")
        if request.index == 7:
            context.set_trailing_metadata((("x-http-cache-control", "no-cache"),))
        await asyncio.sleep(self.delay)
        return ledger_pb2.LedgerEntry(index=request.index)


def _failing(settings: Any, store: Any, delay: float = 0.0) -> list[Registration]:
    servicer = _Failing()
    servicer.delay = delay
    return [
        Registration(
            name="certfree.ledger.v1.LedgerService",
            add=lambda s: ledger_pb2_grpc.add_LedgerServiceServicer_to_server(servicer, s),
        )
    ]


class TestHealthAndReflection:
    """Standard services answer without credentials, as probes need."""

    async def test_health_reports_serving_for_server_and_service(self, start_ledger: Any) -> None:
        """grpc.health.v1 answers SERVING for "" and for the service name."""
        running = await start_ledger()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            for name in ("", "certfree.ledger.v1.LedgerService"):
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=name))
                assert reply.status == health_pb2.HealthCheckResponse.SERVING

    async def test_reflection_lists_the_service(self, start_ledger: Any) -> None:
        """Server reflection names the ledger service and health."""
        running = await start_ledger()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            request = reflection_pb2.ServerReflectionRequest(list_services="")
            names = set()
            async for reply in stub.ServerReflectionInfo(iter([request])):
                names |= {s.name for s in reply.list_services_response.service}
        assert {"certfree.ledger.v1.LedgerService", "grpc.health.v1.Health"} <= names


class TestIdentity:
    """Every RPC has a caller, or it is refused before the handler runs."""

    async def test_call_without_identity_is_unauthenticated(self, ledger_channel: Any) -> None:
        """No x-certfree-* metadata in dev mode: UNAUTHENTICATED naming what is missing."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.GetEntry(ledger_pb2.GetEntryRequest(index=0))
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "x-certfree-department" in (raised.value.details() or "")
        assert details(raised.value)["ErrorInfo"].reason == "UNAUTHENTICATED_CALLER"

    async def test_unknown_role_is_unauthenticated(self, ledger_channel: Any) -> None:
        """A role that is not in the contract is refused."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.GetEntry(ledger_pb2.GetEntryRequest(index=0), metadata=caller(role="king"))
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED

    async def test_without_dev_flag_every_call_is_refused(self, start_ledger: Any) -> None:
        """The production default has no identity source yet, and says so."""
        running = await start_ledger(identity=NoIdentity())
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await stub.GetEntry(ledger_pb2.GetEntryRequest(index=0), metadata=caller())
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert "--insecure-dev" in (raised.value.details() or "")


class TestErrors:
    """Errors reach clients once mapped, with rich details and never a traceback."""

    async def test_invalid_request_lists_every_bad_field(self, ledger_channel: Any) -> None:
        """protovalidate rules become INVALID_ARGUMENT with one BadRequest violation per field."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        bad = ledger_pb2.AppendRequest(
            attestation=ledger_pb2.Attestation(
                artefact_sha256=b"short", issuer_department="not-a-uscc", artefact_id="x"
            )
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.Append(bad, metadata=caller())
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        found = details(raised.value)
        assert found["ErrorInfo"].reason == "INVALID_FIELD"
        assert found["ErrorInfo"].domain == "certfree.gov.cn"
        fields = {v.field for v in found["BadRequest"].field_violations}
        assert fields == {
            "attestation.artefact_sha256",
            "attestation.kind",
            "attestation.issuer_department",
        }

    async def test_unexpected_failure_is_internal_without_detail(
        self, settings: Any, store: Any, start_ledger: Any
    ) -> None:
        """An exception in a handler gives INTERNAL with a request id and nothing of the cause."""
        running = await start_ledger(_failing(settings, store))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            with (
                structlog.testing.capture_logs() as logs,
                pytest.raises(grpc.aio.AioRpcError) as raised,
            ):
                await stub.GetEntry(ledger_pb2.GetEntryRequest(index=13), metadata=caller())
        message = raised.value.details() or ""
        assert raised.value.code() == grpc.StatusCode.INTERNAL
        assert "secret" not in message and "Traceback" not in message
        request_id = details(raised.value)["ErrorInfo"].metadata["request_id"]
        assert request_id in message
        assert any(entry["event"] == "rpc failed unexpectedly" for entry in logs)

    async def test_rpc_not_built_is_unimplemented_and_named(
        self, settings: Any, store: Any, start_ledger: Any
    ) -> None:
        """An RPC of the contract that is not built answers UNIMPLEMENTED naming the RPC."""
        running = await start_ledger(contract_only(proofs_pb2, proofs_pb2_grpc))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = proofs_pb2_grpc.ProofCatalogServiceStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await stub.ListProofItems(proofs_pb2.ListProofItemsRequest(), metadata=caller())
        assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
        assert "ProofCatalogService/ListProofItems" in (raised.value.details() or "")
        assert details(raised.value)["ErrorInfo"].reason == "NOT_IMPLEMENTED"

    async def test_contract_only_services_mount_every_service_of_the_file(
        self, settings: Any, store: Any
    ) -> None:
        """licenses and proofs mount a servicer for each service their protos declare."""
        for module, pb2 in ((services.licenses, licenses_pb2), (services.proofs, proofs_pb2)):
            names = {r.name for r in module.registrations(settings, store)}
            assert names == {s.full_name for s in pb2.DESCRIPTOR.services_by_name.values()}
            assert names


class TestLimits:
    """Message sizes are bounded on purpose."""

    async def test_oversized_message_is_refused(
        self, settings: Any, store: Any, ledger_channel: Any
    ) -> None:
        """A request over CERTFREE_MAX_MESSAGE_BYTES fails RESOURCE_EXHAUSTED before any handler."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        huge = ledger_pb2.BatchAppendRequest(
            appends=[ledger_pb2.AppendRequest(idempotency_key="k" * 100)]
            * (settings.max_message_bytes // 100)
        )
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.BatchAppend(huge, metadata=caller())
        assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


class TestRequestContext:
    """Every request has an id, and its log line carries id, RPC, caller and outcome."""

    async def test_request_id_is_echoed_and_logged(self, ledger_channel: Any) -> None:
        """A client's x-request-id comes back in a failed unary call's trailing metadata
        and tags the request's log line."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        metadata = (*caller(), ("x-request-id", "req-1234-abcd"))
        with structlog.testing.capture_logs(
            processors=[structlog.contextvars.merge_contextvars]
        ) as logs:
            call = stub.GetEntry(ledger_pb2.GetEntryRequest(index=99), metadata=metadata)
            with pytest.raises(grpc.aio.AioRpcError):
                await call
        trailing = dict(await call.trailing_metadata())
        assert trailing["x-request-id"] == "req-1234-abcd"
        line = next(entry for entry in logs if entry["event"] == "rpc")
        assert line["request_id"] == "req-1234-abcd"
        assert line["rpc"] == "/certfree.ledger.v1.LedgerService/GetEntry"
        assert line["caller"].endswith("/issuer")
        assert line["outcome"] == "NOT_FOUND"
        assert line["reason"] == "NOT_FOUND"

    async def test_request_id_joins_the_handlers_trailing_metadata(
        self, settings: Any, store: Any, start_ledger: Any
    ) -> None:
        """A successful unary call's trailing metadata has the id (made by the server when
        the client sent none) beside what the handler set there itself."""
        running = await start_ledger(_failing(settings, store))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            with structlog.testing.capture_logs(
                processors=[structlog.contextvars.merge_contextvars]
            ) as logs:
                call = stub.GetEntry(ledger_pb2.GetEntryRequest(index=7), metadata=caller())
                assert (await call).index == 7
            trailing = dict(await call.trailing_metadata())
        assert trailing["x-http-cache-control"] == "no-cache"
        line = next(entry for entry in logs if entry["event"] == "rpc")
        assert trailing["x-request-id"] == line["request_id"]
        assert len(trailing["x-request-id"]) == 32
        assert line["outcome"] == "OK" and "reason" not in line

    async def test_stream_sends_request_id_as_it_opens(self, ledger_channel: Any) -> None:
        """A streaming call has the id in its initial metadata before any message, and
        in its trailing metadata at the end."""
        stub = ledger_pb2_grpc.LedgerServiceStub(ledger_channel)
        call = stub.AppendStream(metadata=(*caller(), ("x-request-id", "stream-0001")))
        initial = dict(await call.initial_metadata())
        assert initial["x-request-id"] == "stream-0001"
        await call.done_writing()
        assert [reply async for reply in call] == []
        assert dict(await call.trailing_metadata())["x-request-id"] == "stream-0001"
        assert await call.code() == grpc.StatusCode.OK


# A contract of the test's own, in the default pool beside certfree's: a type whose rules
# sit behind a map and a recursive field, and a recursive type without any.
_PACKAGE = "certfree.test.servervalidation"


@functools.cache
def _test_types() -> dict[str, Any]:
    """Leaf (a rule on `code`), ByMap (map of Leaf), Tree (child Tree, by_map), Plain."""
    file = descriptor_pb2.FileDescriptorProto(
        name="certfree_test/server_validation.proto",
        package=_PACKAGE,
        syntax="proto3",
        dependency=[validate_pb2.DESCRIPTOR.name],
    )
    leaf = file.message_type.add(name="Leaf")
    code = leaf.field.add(name="code", number=1, type=9, label=1)  # string, optional
    # The genproto stub types the extension as a plain FieldDescriptor.
    code.options.Extensions[validate_pb2.field].string.min_len = 2  # type: ignore[index,assignment]
    by_map = file.message_type.add(name="ByMap")
    entry = by_map.nested_type.add(name="LeavesEntry")
    entry.options.map_entry = True
    entry.field.add(name="key", number=1, type=9, label=1)
    entry.field.add(name="value", number=2, type=11, label=1, type_name=f".{_PACKAGE}.Leaf")
    by_map.field.add(
        name="leaves", number=1, type=11, label=3, type_name=f".{_PACKAGE}.ByMap.LeavesEntry"
    )
    tree = file.message_type.add(name="Tree")
    tree.field.add(name="child", number=1, type=11, label=1, type_name=f".{_PACKAGE}.Tree")
    tree.field.add(name="by_map", number=2, type=11, label=1, type_name=f".{_PACKAGE}.ByMap")
    plain = file.message_type.add(name="Plain")
    plain.field.add(name="next", number=1, type=11, label=1, type_name=f".{_PACKAGE}.Plain")
    plain.field.add(name="note", number=2, type=9, label=1)
    pool = descriptor_pool.Default()
    pool.AddSerializedFile(file.SerializeToString())
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.{name}"))
        for name in ("Leaf", "ByMap", "Tree", "Plain")
    }


def _bad_tree() -> Any:
    """A Tree whose only violation is two levels down, behind a map."""
    tree = _test_types()["Tree"]()
    tree.child.by_map.leaves["k"].code = "x"
    return tree


class _Counting:
    """The shared protovalidate validator, counting the messages it is given."""

    def __init__(self) -> None:
        self.calls = 0

    def collect_violations(self, message: Any) -> list[protovalidate.Violation]:
        self.calls += 1
        return protovalidate.collect_violations(message)


class TestValidation:
    """Requests are validated when their type or any type inside it has rules, and only then."""

    @pytest.mark.parametrize(
        ("descriptor", "expected"),
        [
            (ledger_pb2.GetEntryRequest.DESCRIPTOR, False),
            (ledger_pb2.AppendRequest.DESCRIPTOR, True),
            # No rules of its own: repeated ArtefactEntry -> LedgerEntry -> Attestation has.
            (ledger_pb2.ListArtefactEntriesResponse.DESCRIPTOR, True),
        ],
    )
    def test_rules_are_found_wherever_they_are_in_the_contract(
        self, descriptor: Any, expected: bool
    ) -> None:
        """Own rules, rules reached through repeated message fields, and none at all."""
        assert has_rules(descriptor) is expected

    def test_rules_behind_a_map_and_a_recursive_field_are_found(self) -> None:
        """A map's value type and a recursive type are followed; a recursive type without
        rules anywhere has none."""
        types = _test_types()
        assert has_rules(types["Tree"].DESCRIPTOR)
        assert has_rules(types["ByMap"].DESCRIPTOR)
        assert not has_rules(types["Plain"].DESCRIPTOR)

    def test_type_without_rules_is_not_given_to_protovalidate(self) -> None:
        """GetEntryRequest has no rules anywhere: protovalidate is never called for it."""
        counting = _Counting()
        validator = RequestValidator(counting)
        for index in range(3):
            validator.check(ledger_pb2.GetEntryRequest(index=index))
        validator.check(_test_types()["Plain"]())
        assert counting.calls == 0
        validator.check(
            ledger_pb2.LookupEntryRequest(
                artefact_sha256=b"\1" * 32, kind=ledger_pb2.ATTESTATION_KIND_LICENSE_ISSUED
            )
        )
        assert counting.calls == 1

    def test_violation_deep_inside_is_reported_with_its_path(self) -> None:
        """A type without rules of its own is still validated for its fields' types."""
        counting = _Counting()
        with pytest.raises(InvalidArgument) as raised:
            RequestValidator(counting).check(_bad_tree())
        assert counting.calls == 1
        assert [v.field for v in raised.value.field_violations] == ["child.by_map.leaves['k'].code"]

    async def test_nested_violation_through_the_server_is_invalid_argument(
        self, start_ledger: Any
    ) -> None:
        """Through a real server: INVALID_ARGUMENT with the nested field's path."""
        tree_type = _test_types()["Tree"]

        async def check(request: Any, context: Any) -> Any:
            return request

        handler = grpc.method_handlers_generic_handler(
            f"{_PACKAGE}.Echo",
            {
                "Check": grpc.unary_unary_rpc_method_handler(
                    check,
                    request_deserializer=tree_type.FromString,
                    response_serializer=tree_type.SerializeToString,
                )
            },
        )
        registration = Registration(
            name=f"{_PACKAGE}.Echo", add=lambda s: s.add_generic_rpc_handlers((handler,))
        )
        running = await start_ledger([registration])
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            call = channel.unary_unary(
                f"/{_PACKAGE}.Echo/Check",
                request_serializer=tree_type.SerializeToString,
                response_deserializer=tree_type.FromString,
            )
            good = tree_type()
            good.child.by_map.leaves["k"].code = "ok"
            assert await call(good, metadata=caller()) == good
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await call(_bad_tree(), metadata=caller())
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        found = details(raised.value)
        assert [v.field for v in found["BadRequest"].field_violations] == [
            "child.by_map.leaves['k'].code"
        ]


class TestGracefulShutdown:
    """Stopping drains in-flight RPCs and refuses new ones."""

    async def test_in_flight_rpc_finishes_during_grace(
        self, settings: Any, store: Any, start_ledger: Any
    ) -> None:
        """An RPC running when stop() begins completes; health turns NOT_SERVING; new calls fail."""
        running = await start_ledger(_failing(settings, store, delay=0.5))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{running.port}") as channel:
            stub = ledger_pb2_grpc.LedgerServiceStub(channel)
            in_flight = asyncio.ensure_future(
                stub.GetEntry(ledger_pb2.GetEntryRequest(index=1), metadata=caller())
            )
            await asyncio.sleep(0.1)
            stopping = asyncio.ensure_future(running.stop(grace=5))
            reply = await in_flight
            await stopping
            assert reply.index == 1
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                await stub.GetEntry(
                    ledger_pb2.GetEntryRequest(index=2), metadata=caller(), timeout=2
                )
            assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
