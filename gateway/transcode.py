"""HTTP request -> protobuf request, protobuf response -> JSON: the proto3 JSON mapping.

Pure functions over a route and the parts of a request; no I/O. The request is
assembled as a JSON-shaped dict (body, then query parameters, then path variables,
which win) and decoded by ``json_format.ParseDict`` with unknown fields refused, so
a typo is a 400 rather than a silently dropped field. Path and query values stay
strings: the JSON mapping already accepts ``"42"`` for integers, enum names or
numbers, base64 for bytes; only booleans are converted here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import json_format, message
from google.protobuf.descriptor import FieldDescriptor

from gateway.descriptors import message_class
from gateway.routes import RpcRoute, field_chain, is_scalar, message_name

_TRUE = frozenset({"true", "1", "t", "yes"})
_FALSE = frozenset({"false", "0", "f", "no"})

# json_format reports bad input as ParseError, but a few shapes (an object where a
# number belongs, say) surface as the underlying TypeError or ValueError.
_DECODE_ERRORS = (json_format.ParseError, TypeError, ValueError, AttributeError, KeyError)


class TranscodeError(ValueError):
    """The HTTP request cannot become the RPC's request message (HTTP 400)."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        """The offending request field or parameter, when one is to blame."""


def parse_json_body(raw: bytes) -> Any:
    """The decoded JSON of a request body; an empty body is ``{}``."""
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as error:  # JSONDecodeError and UnicodeDecodeError
        raise TranscodeError(f"the request body is not valid JSON: {error}") from None


def _scalar_value(field: FieldDescriptor, text: str, name: str) -> Any:
    """A path or query string as the JSON value `field` expects."""
    is_bool = field.type == FieldDescriptor.TYPE_BOOL or (
        message_name(field) == "google.protobuf.BoolValue"
    )
    if not is_bool:
        return text
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise TranscodeError(f"{name}={text!r} is not a boolean (true or false)", field=name)


def _set(fields: dict[str, Any], chain: list[FieldDescriptor], value: Any, name: str) -> None:
    """Put `value` at the field path `chain`, replacing what the body said there."""
    current = fields
    for step in chain[:-1]:
        key = step.json_name if step.json_name in current else step.name
        child = current.setdefault(key, {})
        if not isinstance(child, dict):
            raise TranscodeError(f"{step.name} must be a JSON object to bind {name}", field=name)
        current = child
    leaf = chain[-1]
    current.pop(leaf.json_name, None)
    current[leaf.name] = value


def _apply_query(route: RpcRoute, fields: dict[str, Any], query: Iterable[tuple[str, str]]) -> None:
    grouped: dict[str, list[str]] = {}
    for name, value in query:
        grouped.setdefault(name, []).append(value)
    for name, values in grouped.items():
        try:
            chain = field_chain(route.method.input_type, name)
        except KeyError:
            raise TranscodeError(f"unknown query parameter {name!r}", field=name) from None
        proto_path = ".".join(step.name for step in chain)
        if proto_path in route.bound_fields or chain[0].name == route.body:
            raise TranscodeError(
                f"query parameter {name!r} is already given by the path or body", field=name
            )
        leaf = chain[-1]
        if not is_scalar(leaf):  # maps are repeated entry messages, so not scalar either
            raise TranscodeError(
                f"query parameter {name!r} names a message; name one of its fields", field=name
            )
        if leaf.is_repeated:
            _set(fields, chain, [_scalar_value(leaf, v, name) for v in values], name)
        elif len(values) > 1:
            raise TranscodeError(
                f"query parameter {name!r} is given {len(values)} times", field=name
            )
        else:
            _set(fields, chain, _scalar_value(leaf, values[0], name), name)


def request_fields(
    route: RpcRoute,
    path_values: Mapping[str, str],
    query: Iterable[tuple[str, str]],
    body: Any,
) -> dict[str, Any]:
    """The request as a JSON-shaped dict: body, query parameters (unless the body is
    ``*``), then path variables, which override both."""
    if route.body == "*":
        if not isinstance(body, dict):
            raise TranscodeError("the request body must be a JSON object")
        fields: dict[str, Any] = body
    else:
        fields = {route.body: body} if route.body else {}
        _apply_query(route, fields, query)
    for field_path, text in path_values.items():
        chain = field_chain(route.method.input_type, field_path)
        _set(fields, chain, _scalar_value(chain[-1], text, field_path), field_path)
    return fields


def request_message(
    route: RpcRoute,
    path_values: Mapping[str, str],
    query: Iterable[tuple[str, str]],
    body: Any,
) -> message.Message:
    """The RPC's request message; raises TranscodeError when the HTTP request does not fit it."""
    fields = request_fields(route, path_values, query, body)
    request = message_class(route.method.input_type)()
    try:
        json_format.ParseDict(fields, request, ignore_unknown_fields=False)
    except _DECODE_ERRORS as error:
        text = " ".join(str(error).split())
        raise TranscodeError(
            f"the request does not match {route.method.input_type.name}: {text}",
            field=_field_of(text),
        ) from None
    return request


_FAILED_FIELD = re.compile(r"Failed to parse (\w+) field")
_NO_SUCH_FIELD = re.compile(r'has no field named "([^"]+)" at "([^"]*)"')


def _field_of(parse_error: str) -> str:
    """The field path (JSON names, dotted) a json_format ParseError is about, or ''.

    json_format says ``Failed to parse a field: Failed to parse b field: ...`` for a bad
    value and ``... has no field named "x" at "Request.a"`` for an unknown name.
    """
    unknown = _NO_SUCH_FIELD.search(parse_error)
    if unknown:
        parents = unknown.group(2).split(".")[1:]  # drop the request message's own name
        return ".".join([*parents, unknown.group(1)])
    return ".".join(_FAILED_FIELD.findall(parse_error))


def message_json(msg: message.Message) -> Any:
    """A message in the proto3 JSON mapping: lowerCamel names, zero values included."""
    return json_format.MessageToDict(
        msg, preserving_proto_field_name=False, always_print_fields_with_no_presence=True
    )


def response_json(route: RpcRoute, response: message.Message) -> Any:
    """The JSON the client receives: the whole response, or its ``response_body`` field."""
    data = message_json(response)
    if not route.response_body:
        return data
    field = route.method.output_type.fields_by_name[route.response_body]
    return data.get(field.json_name)
