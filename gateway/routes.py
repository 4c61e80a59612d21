"""The route table: one route per ``google.api.http`` binding in the contract.

Routes are read from the descriptors, never written by hand: every method of every
service in a ``certfree.*`` proto file that carries an HTTP rule (and each of its
``additional_bindings``) becomes an :class:`RpcRoute`. The functions here are pure;
:mod:`gateway.descriptors` loads the descriptors they read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from google.api import annotations_pb2, http_pb2
from google.protobuf.descriptor import (
    Descriptor,
    FieldDescriptor,
    MethodDescriptor,
    ServiceDescriptor,
)

from gateway.templates import PathTemplate, TemplateError, parse_template

_VERBS = ("get", "put", "post", "delete", "patch")

# Well-known messages whose JSON form is a single string or number, so that a path
# variable or query parameter may carry them.
SCALAR_MESSAGES = frozenset(
    {
        "google.protobuf.Timestamp",
        "google.protobuf.Duration",
        "google.protobuf.FieldMask",
        "google.protobuf.DoubleValue",
        "google.protobuf.FloatValue",
        "google.protobuf.Int64Value",
        "google.protobuf.UInt64Value",
        "google.protobuf.Int32Value",
        "google.protobuf.UInt32Value",
        "google.protobuf.BoolValue",
        "google.protobuf.StringValue",
        "google.protobuf.BytesValue",
    }
)


class RouteError(ValueError):
    """An HTTP rule in the contract cannot be served; the message names the RPC."""


@dataclass(frozen=True)
class RpcRoute:
    """One HTTP binding of one RPC."""

    method: MethodDescriptor
    """The RPC, with its request and response message descriptors."""
    http_method: str
    """``GET``, ``POST`` ... or a custom method's name, upper case."""
    path: PathTemplate
    """Where the route answers."""
    body: str
    """``*`` (the whole request is the body), a top-level field name, or empty (no body)."""
    response_body: str
    """A top-level response field to send instead of the whole response, or empty."""

    @property
    def service(self) -> str:
        """Full service name: ``certfree.ledger.v1.LedgerService``."""
        return str(self.method.containing_service.full_name)

    @property
    def grpc_path(self) -> str:
        """The gRPC method path: ``/certfree.ledger.v1.LedgerService/Append``."""
        return f"/{self.service}/{self.method.name}"

    @property
    def upstream(self) -> str:
        """The service that answers, from the proto package: ``ledger`` for certfree.ledger.v1."""
        return self.service.split(".")[1]

    @property
    def operation_id(self) -> str:
        """``LedgerService_Append``: unique in the OpenAPI document and the logs."""
        return f"{self.method.containing_service.name}_{self.method.name}"

    @property
    def server_streaming(self) -> bool:
        """True when the RPC streams responses (the gateway sends Server-Sent Events)."""
        return bool(self.method.server_streaming)

    @property
    def bound_fields(self) -> frozenset[str]:
        """Field paths (proto names) the path template binds."""
        return frozenset(v.field_path for v in self.path.variables)


def find_field(message: Descriptor, name: str) -> FieldDescriptor | None:
    """The field called `name` by its proto name or its JSON (lowerCamel) name."""
    found = message.fields_by_name.get(name)
    if found is not None:
        return found
    return next((f for f in message.fields if f.json_name == name), None)


def field_chain(message: Descriptor, dotted: str) -> list[FieldDescriptor]:
    """Resolve ``a.b.c`` to its fields; raises KeyError naming the first unknown part."""
    chain: list[FieldDescriptor] = []
    current: Descriptor | None = message
    for part in dotted.split("."):
        field = find_field(current, part) if current is not None else None
        if field is None or (chain and chain[-1].is_repeated):
            raise KeyError(dotted)
        chain.append(field)
        current = field.message_type
    return chain


def message_name(field: FieldDescriptor) -> str:
    """Full name of a message-typed field's message; empty for scalars and enums."""
    return str(field.message_type.full_name) if field.message_type is not None else ""


def is_scalar(field: FieldDescriptor) -> bool:
    """True when one string can carry the field's value (scalars, enums, scalar WKTs)."""
    if field.type != FieldDescriptor.TYPE_MESSAGE:
        return True
    return message_name(field) in SCALAR_MESSAGES


def http_rules(method: MethodDescriptor) -> list[http_pb2.HttpRule]:
    """The method's HTTP rule and its additional bindings; empty when it has none."""
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return []
    rule = options.Extensions[annotations_pb2.http]
    return [rule, *rule.additional_bindings]


def _verb_and_path(rule: http_pb2.HttpRule) -> tuple[str, str]:
    kind = rule.WhichOneof("pattern")
    if kind is None:
        raise RouteError("the rule names no HTTP method")
    if kind == "custom":
        return rule.custom.kind.upper(), rule.custom.path
    return kind.upper(), getattr(rule, kind)


def build_route(method: MethodDescriptor, rule: http_pb2.HttpRule) -> RpcRoute:
    """The route of one rule of `method`; raises RouteError when the rule cannot be served."""
    where = method.full_name
    try:
        http_method, template = _verb_and_path(rule)
        path = parse_template(template)
    except (RouteError, TemplateError) as error:
        raise RouteError(f"{where}: {error}") from None
    for variable in path.variables:
        try:
            leaf = field_chain(method.input_type, variable.field_path)[-1]
        except KeyError:
            raise RouteError(
                f"{where}: path variable {variable.field_path!r} is not a request field"
            ) from None
        if leaf.is_repeated or not is_scalar(leaf):
            raise RouteError(
                f"{where}: path variable {variable.field_path!r} must be a single scalar field"
            )
    if rule.body not in ("", "*") and rule.body not in method.input_type.fields_by_name:
        raise RouteError(f"{where}: body {rule.body!r} is not a top-level request field")
    if rule.response_body and rule.response_body not in method.output_type.fields_by_name:
        raise RouteError(
            f"{where}: response_body {rule.response_body!r} is not a top-level response field"
        )
    if method.client_streaming:
        raise RouteError(f"{where}: client-streaming RPCs cannot be transcoded")
    return RpcRoute(
        method=method,
        http_method=http_method,
        path=path,
        body=rule.body,
        response_body=rule.response_body,
    )


def routes_for_service(service: ServiceDescriptor) -> list[RpcRoute]:
    """Every route of every annotated method of `service`, in declaration order."""
    return [build_route(method, rule) for method in service.methods for rule in http_rules(method)]


def precedence(route: RpcRoute) -> tuple[int, int, int, str]:
    """Sort key: more literal segments first, then templates with a custom verb, then fewer
    wildcard variables; ties by template so the order is stable."""
    return (
        -route.path.literal_segments,
        0 if route.path.verb else 1,
        sum(v.multi_segment for v in route.path.variables),
        route.path.template,
    )


def route_table(services: Iterable[ServiceDescriptor]) -> list[RpcRoute]:
    """All routes of `services`, in matching order; raises RouteError on a duplicate binding."""
    table = sorted((r for s in services for r in routes_for_service(s)), key=precedence)
    seen: dict[tuple[str, str], str] = {}
    for route in table:
        key = (route.http_method, route.path.template)
        if key in seen:
            raise RouteError(
                f"{route.method.full_name} and {seen[key]} both bind {key[0]} {key[1]}"
            )
        seen[key] = route.method.full_name
    return table


def match(
    table: Iterable[RpcRoute], http_method: str, raw_path: str
) -> tuple[RpcRoute | None, dict[str, str], list[str]]:
    """The route for a request, its path variables, and the methods the path allows.

    Returns ``(None, {}, allowed)`` when the path is known but not for this method
    (``allowed`` non-empty: 405), and ``(None, {}, [])`` when no route has the path (404).
    """
    allowed: list[str] = []
    for route in table:
        values = route.path.match(raw_path)
        if values is None:
            continue
        if route.http_method == http_method:
            return route, values, []
        if route.http_method not in allowed:
            allowed.append(route.http_method)
    return None, {}, allowed
