"""``/openapi.json``: an OpenAPI 3.1 document generated from the contract.

Each route is an operation (``operationId`` ``Service_Method``, its summary and
description from the proto comments, tagged with its service); each message and
enum it reaches is a schema under its full proto name, in the proto3 JSON mapping
(lowerCamel names, 64-bit integers as strings, bytes as base64, Timestamp as
date-time ...), with the simple ``buf.validate`` rules (lengths, patterns, item
counts, required) carried over. Errors reference the ``google.rpc.Status`` schema.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor
from google.rpc import status_pb2

from gateway.descriptors import is_contract_file
from gateway.routes import RpcRoute, field_chain, is_scalar
from genproto.buf.validate import validate_pb2

OPENAPI_VERSION = "3.1.0"
BEARER_SCHEME = "bearerAuth"
"""The name of the bearer-token security scheme in the document."""
DPOP_SCHEME = "dpopAuth"
"""The name of the DPoP-bound token scheme (RFC 9449): the same tokens, bound to a key."""
_REF = "#/components/schemas/"
_PATH_ITEM_METHODS = frozenset(
    {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
)
_QUERY_DEPTH = 4  # how deep query parameters follow nested (non-repeated) messages

_T = FieldDescriptor
_SCALARS: dict[int, dict[str, Any]] = {
    _T.TYPE_DOUBLE: {"type": "number", "format": "double"},
    _T.TYPE_FLOAT: {"type": "number", "format": "float"},
    _T.TYPE_INT32: {"type": "integer", "format": "int32"},
    _T.TYPE_SINT32: {"type": "integer", "format": "int32"},
    _T.TYPE_SFIXED32: {"type": "integer", "format": "int32"},
    _T.TYPE_UINT32: {"type": "integer", "format": "uint32", "minimum": 0},
    _T.TYPE_FIXED32: {"type": "integer", "format": "uint32", "minimum": 0},
    _T.TYPE_INT64: {"type": "string", "format": "int64"},
    _T.TYPE_SINT64: {"type": "string", "format": "int64"},
    _T.TYPE_SFIXED64: {"type": "string", "format": "int64"},
    _T.TYPE_UINT64: {"type": "string", "format": "uint64"},
    _T.TYPE_FIXED64: {"type": "string", "format": "uint64"},
    _T.TYPE_BOOL: {"type": "boolean"},
    _T.TYPE_STRING: {"type": "string"},
    _T.TYPE_BYTES: {"type": "string", "format": "byte"},
}
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    "google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    "google.protobuf.Duration": {"type": "string", "pattern": r"^-?[0-9]+(\.[0-9]{1,9})?s$"},
    "google.protobuf.FieldMask": {"type": "string"},
    "google.protobuf.Struct": {"type": "object", "additionalProperties": True},
    "google.protobuf.Value": {},
    "google.protobuf.ListValue": {"type": "array", "items": {}},
    "google.protobuf.Empty": {"type": "object"},
    "google.protobuf.Any": {
        "type": "object",
        "properties": {"@type": {"type": "string"}},
        "required": ["@type"],
        "additionalProperties": True,
    },
    "google.protobuf.DoubleValue": {"type": ["number", "null"], "format": "double"},
    "google.protobuf.FloatValue": {"type": ["number", "null"], "format": "float"},
    "google.protobuf.Int64Value": {"type": ["string", "null"], "format": "int64"},
    "google.protobuf.UInt64Value": {"type": ["string", "null"], "format": "uint64"},
    "google.protobuf.Int32Value": {"type": ["integer", "null"], "format": "int32"},
    "google.protobuf.UInt32Value": {"type": ["integer", "null"], "format": "uint32"},
    "google.protobuf.BoolValue": {"type": ["boolean", "null"]},
    "google.protobuf.StringValue": {"type": ["string", "null"]},
    "google.protobuf.BytesValue": {"type": ["string", "null"], "format": "byte"},
}


def _clean(comment: str) -> str:
    return "\n".join(line.strip() for line in comment.strip().splitlines())


def proto_comments(files: Iterable[descriptor_pb2.FileDescriptorProto]) -> dict[str, str]:
    """Leading comments of the contract's elements, by full name (fields: ``Msg.field``)."""
    found: dict[str, str] = {}
    for file in files:
        if not is_contract_file(file):
            continue
        located = {
            tuple(loc.path): _clean(loc.leading_comments)
            for loc in file.source_code_info.location
            if loc.leading_comments.strip()
        }

        def note(
            name: str, path: tuple[int, ...], located: dict[tuple[int, ...], str] = located
        ) -> None:
            if path in located:
                found[name] = located[path]

        def walk_enum(enum: Any, path: tuple[int, ...], scope: str) -> None:
            note(f"{scope}.{enum.name}", path)

        def walk_message(msg: Any, path: tuple[int, ...], scope: str) -> None:
            name = f"{scope}.{msg.name}"
            note(name, path)
            for i, field in enumerate(msg.field):
                note(f"{name}.{field.name}", (*path, 2, i))
            for i, nested in enumerate(msg.nested_type):
                walk_message(nested, (*path, 3, i), name)
            for i, enum in enumerate(msg.enum_type):
                walk_enum(enum, (*path, 4, i), name)

        for i, msg in enumerate(file.message_type):
            walk_message(msg, (4, i), file.package)
        for i, enum in enumerate(file.enum_type):
            walk_enum(enum, (5, i), file.package)
        for i, service in enumerate(file.service):
            note(f"{file.package}.{service.name}", (6, i))
            for j, method in enumerate(service.method):
                note(f"{file.package}.{service.name}.{method.name}", (6, i, 2, j))
    return found


def _rules(field: FieldDescriptor) -> validate_pb2.FieldRules | None:
    """The field's ``(buf.validate.field)`` option, if it has one."""
    extension: Any = validate_pb2.field  # typed as a plain FieldDescriptor in the stubs
    options = field.GetOptions()
    if not options.HasExtension(extension):
        return None
    rules: validate_pb2.FieldRules = options.Extensions[extension]
    return rules


def _constraints(field: FieldDescriptor) -> dict[str, Any]:
    """The simple buf.validate rules of a field, as JSON Schema keywords."""
    rules = _rules(field)
    if rules is None:
        return {}
    kind = rules.WhichOneof("type")
    found: dict[str, Any] = {}
    if kind == "string":
        for rule, keyword in (("min_len", "minLength"), ("max_len", "maxLength")):
            if rules.string.HasField(rule):
                found[keyword] = getattr(rules.string, rule)
        if rules.string.HasField("pattern"):
            found["pattern"] = rules.string.pattern
    elif kind == "repeated":
        for rule, keyword in (("min_items", "minItems"), ("max_items", "maxItems")):
            if rules.repeated.HasField(rule):
                found[keyword] = getattr(rules.repeated, rule)
    return found


def _is_required(field: FieldDescriptor) -> bool:
    rules = _rules(field)
    return rules is not None and rules.required


class SchemaBuilder:
    """Collects component schemas for the messages and enums the operations reach."""

    def __init__(self, comments: dict[str, str]) -> None:
        self.comments = comments
        self.schemas: dict[str, dict[str, Any]] = {}

    def ref(self, descriptor: Descriptor | EnumDescriptor) -> dict[str, Any]:
        """A reference to `descriptor`'s schema, building it on first use."""
        name = descriptor.full_name
        if isinstance(descriptor, Descriptor) and name in _WELL_KNOWN:
            return dict(_WELL_KNOWN[name])
        if name not in self.schemas:
            self.schemas[name] = {}  # placeholder: recursive messages refer back to it
            if isinstance(descriptor, EnumDescriptor):
                self.schemas[name] = self._enum(descriptor)
            else:
                self.schemas[name] = self._message(descriptor)
        return {"$ref": _REF + name}

    def _enum(self, enum: EnumDescriptor) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "string", "enum": [v.name for v in enum.values]}
        values = [
            f"- `{v.name}`: {self.comments[f'{enum.full_name}.{v.name}']}"
            for v in enum.values
            if f"{enum.full_name}.{v.name}" in self.comments
        ]
        text = "\n".join(filter(None, [self.comments.get(enum.full_name, ""), *values]))
        if text:
            schema["description"] = text
        return schema

    def _message(self, msg: Descriptor) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "properties": {}}
        if msg.full_name in self.comments:
            schema["description"] = self.comments[msg.full_name]
        required = []
        for field in msg.fields:
            schema["properties"][field.json_name] = self.field(field)
            if _is_required(field):
                required.append(field.json_name)
        if required:
            schema["required"] = required
        return schema

    def value(self, field: FieldDescriptor) -> dict[str, Any]:
        """The schema of one value of `field` (an array's item, a map's value)."""
        if field.enum_type is not None:
            return self.ref(field.enum_type)
        if field.message_type is not None:
            return self.ref(field.message_type)
        return dict(_SCALARS[field.type])

    def field(self, field: FieldDescriptor) -> dict[str, Any]:
        """The schema of a field: value, array or map, with its comment and rules."""
        entry = field.message_type
        if entry is not None and entry.GetOptions().map_entry:
            schema = {
                "type": "object",
                "additionalProperties": self.value(entry.fields_by_name["value"]),
            }
        elif field.is_repeated:
            schema = {"type": "array", "items": self.value(field)}
        else:
            schema = self.value(field)
        comment = self.comments.get(field.full_name)
        if comment:
            schema["description"] = comment
        schema.update(_constraints(field))
        return schema


def _query_parameters(
    builder: SchemaBuilder,
    msg: Descriptor,
    skip: frozenset[str],
    prefix: tuple[str, str] = ("", ""),
    depth: int = 0,
) -> list[dict[str, Any]]:
    """Query parameters for every scalar field not bound elsewhere, nested names dotted."""
    found: list[dict[str, Any]] = []
    proto_prefix, json_prefix = prefix
    for field in msg.fields:
        proto_name = proto_prefix + field.name
        if proto_name in skip:
            continue
        if is_scalar(field):
            found.append(
                {
                    "name": json_prefix + field.json_name,
                    "in": "query",
                    "schema": builder.field(field),
                }
            )
        elif field.message_type is not None and not field.is_repeated and depth < _QUERY_DEPTH:
            found += _query_parameters(
                builder,
                field.message_type,
                skip,
                (f"{proto_name}.", f"{json_prefix}{field.json_name}."),
                depth + 1,
            )
    return found


def _operation(builder: SchemaBuilder, route: RpcRoute, operation_id: str) -> dict[str, Any]:
    method = route.method
    comment = builder.comments.get(method.full_name, "")
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "tags": [method.containing_service.name],
        "summary": " ".join(comment.split()).split(". ")[0].rstrip(".") or method.name,
    }
    if comment:
        operation["description"] = comment
    parameters = []
    for variable in route.path.variables:
        schema = builder.value(field_chain(method.input_type, variable.field_path)[-1])
        parameters.append(
            {"name": variable.field_path, "in": "path", "required": True, "schema": schema}
        )
    if route.body != "*":
        skip = route.bound_fields | ({route.body} if route.body else set())
        parameters += _query_parameters(builder, method.input_type, frozenset(skip))
    if parameters:
        operation["parameters"] = parameters
    if route.body:
        body_schema = (
            builder.ref(method.input_type)
            if route.body == "*"
            else builder.field(method.input_type.fields_by_name[route.body])
        )
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body_schema}},
        }
    raw_body = method.output_type.full_name == "google.api.HttpBody"
    out = (
        builder.field(method.output_type.fields_by_name[route.response_body])
        if route.response_body
        else {"type": "string", "format": "binary"}
        if raw_body
        else builder.ref(method.output_type)
    )
    if raw_body:
        # google.api.HttpBody: the RPC chooses the bytes and their media type.
        content = {"*/*": {"schema": out}}
        description = "The raw body, with the media type the service chose."
    elif route.server_streaming:
        # OpenAPI 3.1 cannot type the events of a stream; the extension names the message.
        content = {"text/event-stream": {"schema": {"type": "string"}, "x-sse-data": out}}
        description = "A stream of Server-Sent Events, each `data:` one message as JSON."
    else:
        content = {"application/json": {"schema": out}}
        description = "OK"
    operation["responses"] = {
        "200": {"description": description, "content": content},
        "default": {
            "description": "An error: a google.rpc.Status with ErrorInfo and, for bad fields, "
            "BadRequest details.",
            "content": {"application/json": {"schema": builder.ref(status_pb2.Status.DESCRIPTOR)}},
        },
    }
    return operation


def openapi_path(route: RpcRoute) -> str:
    """The OpenAPI path of a route: variables as ``{field}``, patterns dropped."""
    parts: list[str] = []
    name: list[str] = []
    depth = 0
    for char in route.path.template:
        if char == "{":
            depth, name = 1, []
        elif char == "}":
            depth = 0
            parts.append("{" + "".join(name).split("=")[0] + "}")
        elif depth:
            name.append(char)
        else:
            parts.append(char)
    return "".join(parts)


def build_document(
    routes: Sequence[RpcRoute],
    files: Iterable[descriptor_pb2.FileDescriptorProto],
    *,
    title: str = "certfree gateway",
    version: str = "v1",
    scope_of: Callable[[RpcRoute], str | None] | None = None,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `routes`, with comments taken from `files`.

    With `scope_of` (the scope a route's bearer token needs, None for a public route)
    the document declares the ``bearerAuth`` scheme and each operation's requirement.
    """
    comments = proto_comments(files)
    builder = SchemaBuilder(comments)
    paths: dict[str, dict[str, Any]] = {}
    used_ids: set[str] = set()
    tags: dict[str, dict[str, str]] = {}
    for route in sorted(routes, key=lambda r: (r.path.template, r.http_method)):
        if route.http_method.lower() not in _PATH_ITEM_METHODS:
            continue  # a custom HTTP method OpenAPI cannot describe
        operation_id, n = route.operation_id, 1
        while operation_id in used_ids:  # additional bindings of one RPC
            n += 1
            operation_id = f"{route.operation_id}_{n}"
        used_ids.add(operation_id)
        item = paths.setdefault(openapi_path(route), {})
        operation = _operation(builder, route, operation_id)
        if scope_of is not None:
            scope = scope_of(route)
            operation["security"] = (
                [] if scope is None else [{BEARER_SCHEME: [scope]}, {DPOP_SCHEME: [scope]}]
            )
        item[route.http_method.lower()] = operation
        service = route.method.containing_service
        tags[service.name] = {"name": service.name}
        if service.full_name in comments:
            tags[service.name]["description"] = comments[service.full_name]
    components: dict[str, Any] = {"schemas": dict(sorted(builder.schemas.items()))}
    if scope_of is not None:
        components["securitySchemes"] = {
            BEARER_SCHEME: {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "A certfree bearer token (`certfree tokens issue`); each "
                "operation names the scope it needs (docs/security.md).",
            },
            DPOP_SCHEME: {
                "type": "http",
                "scheme": "DPoP",
                "description": "A certfree token bound to the client's key (`certfree tokens "
                "issue --dpop-jkt`), sent as `Authorization: DPoP <token>` with a fresh "
                "`DPoP` proof header per request (RFC 9449; docs/security.md).",
            },
        }
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": title,
            "version": version,
            "description": "HTTP/JSON face of certfree's gRPC services, transcoded from the "
            "google.api.http annotations of the proto contract.",
        },
        "tags": [tags[name] for name in sorted(tags)],
        "paths": paths,
        "components": components,
    }
