"""The gateway's pure parts: path templates, the route table, request binding, OpenAPI.

No server here. A small ``certfree.demo.v1`` library service, built in memory as a
FileDescriptorProto, exercises every shape of rule the grammar allows; the real
contract checks that every annotated RPC gets its route.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from google.api import annotations_pb2, http_pb2
from google.protobuf import descriptor_pb2, descriptor_pool, text_format, timestamp_pb2
from google.protobuf.descriptor import ServiceDescriptor
from openapi_spec_validator import validate

from gateway.descriptors import load_contract, load_descriptor_set
from gateway.openapi import build_document, openapi_path
from gateway.routes import RouteError, RpcRoute, build_route, match, route_table
from gateway.templates import TemplateError, parse_template
from gateway.transcode import (
    TranscodeError,
    message_json,
    parse_json_body,
    request_message,
    response_json,
)

DEMO = """
name: "certfree/demo/v1/demo.proto"
package: "certfree.demo.v1"
syntax: "proto3"
dependency: "google/api/annotations.proto"
dependency: "google/protobuf/timestamp.proto"
enum_type { name: "Colour"
  value { name: "COLOUR_UNSPECIFIED" number: 0 }
  value { name: "COLOUR_RED" number: 1 }
  value { name: "COLOUR_BLUE" number: 2 } }
message_type { name: "Filter"
  field { name: "owner" number: 1 type: TYPE_STRING json_name: "owner" }
  field { name: "include_archived" number: 2 type: TYPE_BOOL json_name: "includeArchived" } }
message_type { name: "Book"
  field { name: "name" number: 1 type: TYPE_STRING json_name: "name" }
  field { name: "pages" number: 2 type: TYPE_INT64 json_name: "pages" }
  field { name: "archived" number: 3 type: TYPE_BOOL json_name: "archived" } }
message_type { name: "ListBooksRequest"
  field { name: "shelf" number: 1 type: TYPE_STRING json_name: "shelf" }
  field { name: "tags" number: 2 type: TYPE_STRING label: LABEL_REPEATED json_name: "tags" }
  field { name: "colours" number: 3 type: TYPE_ENUM type_name: ".certfree.demo.v1.Colour"
          label: LABEL_REPEATED json_name: "colours" }
  field { name: "filter" number: 4 type: TYPE_MESSAGE type_name: ".certfree.demo.v1.Filter"
          json_name: "filter" }
  field { name: "min_pages" number: 5 type: TYPE_INT64 json_name: "minPages" }
  field { name: "since" number: 6 type: TYPE_MESSAGE type_name: ".google.protobuf.Timestamp"
          json_name: "since" } }
message_type { name: "ListBooksResponse"
  field { name: "books" number: 1 type: TYPE_MESSAGE type_name: ".certfree.demo.v1.Book"
          label: LABEL_REPEATED json_name: "books" } }
message_type { name: "UpdateBookRequest"
  field { name: "book" number: 1 type: TYPE_MESSAGE type_name: ".certfree.demo.v1.Book"
          json_name: "book" }
  field { name: "etag" number: 2 type: TYPE_STRING json_name: "etag" } }
service { name: "Library"
  method { name: "ListBooks" input_type: ".certfree.demo.v1.ListBooksRequest"
    output_type: ".certfree.demo.v1.ListBooksResponse"
    options { [google.api.http] { get: "/v1/{shelf=shelves/*}/books" } } }
  method { name: "GetBook" input_type: ".certfree.demo.v1.Book"
    output_type: ".certfree.demo.v1.Book"
    options { [google.api.http] { get: "/v1/{name=shelves/*/books/*}"
      additional_bindings { get: "/v1/books/{name=**}" } } } }
  method { name: "UpdateBook" input_type: ".certfree.demo.v1.UpdateBookRequest"
    output_type: ".certfree.demo.v1.Book"
    options { [google.api.http] { patch: "/v1/{book.name=shelves/*/books/*}" body: "book" } } }
  method { name: "ArchiveBook" input_type: ".certfree.demo.v1.Book"
    output_type: ".certfree.demo.v1.Book"
    options { [google.api.http] { post: "/v1/{name=shelves/*/books/*}:archive" body: "*" } } }
  method { name: "ListTitles" input_type: ".certfree.demo.v1.ListBooksRequest"
    output_type: ".certfree.demo.v1.ListBooksResponse"
    options { [google.api.http] { get: "/v1/{shelf=shelves/*}/titles" response_body: "books" } } }
  method { name: "WatchBooks" input_type: ".certfree.demo.v1.ListBooksRequest"
    output_type: ".certfree.demo.v1.Book" server_streaming: true
    options { [google.api.http] { get: "/v1/{shelf=shelves/*}/books:watch" } } }
  method { name: "Unrouted" input_type: ".certfree.demo.v1.Book"
    output_type: ".certfree.demo.v1.Book" } }
"""


def _demo_file() -> descriptor_pb2.FileDescriptorProto:
    return text_format.Parse(DEMO, descriptor_pb2.FileDescriptorProto())


@pytest.fixture(scope="module")
def library() -> ServiceDescriptor:
    """The demo Library service, in a pool of its own."""
    pool = descriptor_pool.DescriptorPool()
    for module in (descriptor_pb2, http_pb2, annotations_pb2, timestamp_pb2):
        file = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(file)
        pool.Add(file)
    pool.Add(_demo_file())
    return pool.FindServiceByName("certfree.demo.v1.Library")


@pytest.fixture(scope="module")
def table(library: ServiceDescriptor) -> list[RpcRoute]:
    """The demo service's route table."""
    return route_table([library])


def _route(table: list[RpcRoute], method: str, index: int = 0) -> RpcRoute:
    return [r for r in table if r.method.name == method][index]


class TestPathTemplates:
    """Templates compile to matchers that bind variables and respect custom verbs."""

    def test_simple_variable_binds_one_segment(self) -> None:
        """``{index}`` takes one segment, no more, no less."""
        template = parse_template("/v1/ledger/entries/{index}")
        assert template.match("/v1/ledger/entries/42") == {"index": "42"}
        assert template.match("/v1/ledger/entries/4/2") is None
        assert template.match("/v1/ledger/entries/") is None

    def test_pattern_variable_binds_several_segments(self) -> None:
        """``{name=shelves/*/books/*}`` keeps the slashes of the value."""
        template = parse_template("/v1/{name=shelves/*/books/*}")
        assert template.match("/v1/shelves/s1/books/b2") == {"name": "shelves/s1/books/b2"}
        assert template.match("/v1/shelves/s1/books") is None
        assert template.variables[0].multi_segment

    def test_double_wildcard_takes_the_rest(self) -> None:
        """``{name=**}`` binds any number of segments."""
        template = parse_template("/v1/books/{name=**}")
        assert template.match("/v1/books/a/b/c") == {"name": "a/b/c"}

    def test_custom_verb_is_required_and_kept_apart(self) -> None:
        """``:batchAppend`` matches only with the verb, and a variable stops before it."""
        batch = parse_template("/v1/ledger/entries:batchAppend")
        assert batch.verb == "batchAppend"
        assert batch.match("/v1/ledger/entries:batchAppend") == {}
        assert batch.match("/v1/ledger/entries") is None
        assert batch.match("/v1/ledger/entries:lookup") is None
        archive = parse_template("/v1/{name=shelves/*/books/*}:archive")
        assert archive.match("/v1/shelves/s/books/b:archive") == {"name": "shelves/s/books/b"}

    def test_values_are_percent_decoded(self) -> None:
        """An encoded value decodes; in a multi-segment value %2F stays inside its segment."""
        assert parse_template("/v1/x/{id}").match("/v1/x/a%20b") == {"id": "a b"}
        assert parse_template("/v1/{name=a/*}").match("/v1/a/b%2Fc") == {"name": "a/b/c"}

    def test_dotted_field_path(self) -> None:
        """A variable may bind a nested field."""
        template = parse_template("/v1/{book.name=shelves/*/books/*}")
        assert template.variables[0].field_path == "book.name"

    @pytest.mark.parametrize(
        "bad",
        ["v1/x", "/v1/{x", "/v1/x}", "/v1/{a{b}}", "/v1/{1x}", "/v1/**/x", "/v1/a{x}", "/v1/x:"],
    )
    def test_malformed_templates_are_refused(self, bad: str) -> None:
        """Each grammar violation is a TemplateError naming the template."""
        with pytest.raises(TemplateError, match="v1"):
            parse_template(bad)


class TestRouteTable:
    """Every annotated method, and only those, becomes a route with its rule's parts."""

    def test_every_binding_is_a_route(self, table: list[RpcRoute]) -> None:
        """Six annotated methods with one additional binding: seven routes; Unrouted has none."""
        names = sorted(r.operation_id for r in table)
        assert names == sorted(
            [
                "Library_ListBooks",
                "Library_GetBook",
                "Library_GetBook",
                "Library_UpdateBook",
                "Library_ArchiveBook",
                "Library_ListTitles",
                "Library_WatchBooks",
            ]
        )

    def test_route_carries_verb_body_and_streaming(self, table: list[RpcRoute]) -> None:
        """A route knows its HTTP method, body, response body and gRPC path."""
        update = _route(table, "UpdateBook")
        assert (update.http_method, update.body, update.response_body) == ("PATCH", "book", "")
        assert update.grpc_path == "/certfree.demo.v1.Library/UpdateBook"
        assert update.upstream == "demo"
        assert _route(table, "ListTitles").response_body == "books"
        assert _route(table, "WatchBooks").server_streaming
        assert not _route(table, "ListBooks").server_streaming

    def test_custom_verb_route_wins_over_the_plain_one(self, table: list[RpcRoute]) -> None:
        """POST …:archive goes to ArchiveBook; GET of the same path is still GetBook."""
        route, values, _ = match(table, "POST", "/v1/shelves/s/books/b:archive")
        assert route is not None and route.method.name == "ArchiveBook"
        assert values == {"name": "shelves/s/books/b"}
        route, _, _ = match(table, "GET", "/v1/shelves/s/books:watch")
        assert route is not None and route.method.name == "WatchBooks"

    def test_known_path_with_other_method_lists_the_allowed_ones(
        self, table: list[RpcRoute]
    ) -> None:
        """A path that exists for other methods gives no route and the allowed methods (405)."""
        assert match(table, "DELETE", "/v1/shelves/s/books/b") == (None, {}, ["PATCH", "GET"])
        assert match(table, "GET", "/v1/nowhere") == (None, {}, [])

    def test_bad_rules_are_refused_naming_the_rpc(self, library: ServiceDescriptor) -> None:
        """Unknown path fields, non-scalar variables and unknown bodies fail at start-up."""
        method = library.methods_by_name["UpdateBook"]
        for rule, why in (
            (http_pb2.HttpRule(get="/v1/{nope}"), "nope"),
            (http_pb2.HttpRule(get="/v1/{book}"), "single scalar"),
            (http_pb2.HttpRule(post="/v1/x", body="nope"), "body"),
            (http_pb2.HttpRule(get="/v1/x", response_body="nope"), "response_body"),
            (http_pb2.HttpRule(body="*"), "no HTTP method"),
        ):
            with pytest.raises(
                RouteError, match=re.escape("certfree.demo.v1.Library.UpdateBook")
            ) as raised:
                build_route(method, rule)
            assert why in str(raised.value)

    def test_contract_routes_cover_every_annotated_rpc(self) -> None:
        """Each google.api.http binding in genproto/certfree.binpb has exactly one route."""
        expected = set()
        for file in load_descriptor_set().file:
            if not file.package.startswith("certfree."):
                continue
            for service in file.service:
                for method in service.method:
                    if not method.options.HasExtension(annotations_pb2.http):
                        continue
                    rule = method.options.Extensions[annotations_pb2.http]
                    for binding in [rule, *rule.additional_bindings]:
                        kind = binding.WhichOneof("pattern")
                        path = binding.custom.path if kind == "custom" else getattr(binding, kind)
                        expected.add((f"{file.package}.{service.name}.{method.name}", path))
        routes = route_table(load_contract().services)
        assert {(r.method.full_name, r.path.template) for r in routes} == expected
        assert ("certfree.ledger.v1.LedgerService.Append", "/v1/ledger/entries") in expected
        assert len(routes) == len(expected)


class TestRequestBinding:
    """Path, query and body become one request message in the proto3 JSON mapping."""

    def test_query_parameters_bind_repeated_nested_and_typed_fields(
        self, table: list[RpcRoute]
    ) -> None:
        """Repeated parameters repeat; dotted names reach nested fields; JSON or proto names."""
        query = [
            ("tags", "a"),
            ("tags", "b"),
            ("colours", "COLOUR_RED"),
            ("colours", "2"),
            ("filter.owner", "lib"),
            ("filter.include_archived", "true"),
            ("minPages", "10"),
            ("since", "2026-01-02T03:04:05Z"),
        ]
        request: Any = request_message(
            _route(table, "ListBooks"), {"shelf": "shelves/s"}, query, None
        )
        assert request.shelf == "shelves/s"
        assert list(request.tags) == ["a", "b"]
        assert list(request.colours) == [1, 2]
        assert (request.filter.owner, request.filter.include_archived) == ("lib", True)
        assert request.min_pages == 10
        assert request.since.seconds == 1767323045

    @pytest.mark.parametrize(
        ("query", "why"),
        [
            ([("nope", "1")], "unknown query parameter 'nope'"),
            ([("minPages", "1"), ("minPages", "2")], "given 2 times"),
            ([("filter", "x")], "names a message"),
            ([("filter.includeArchived", "perhaps")], "not a boolean"),
            ([("shelf", "shelves/other")], "already given by the path"),
            ([("minPages", "many")], "does not match ListBooksRequest"),
        ],
    )
    def test_bad_query_parameters_are_refused(
        self, table: list[RpcRoute], query: list[tuple[str, str]], why: str
    ) -> None:
        """Each mistake is a TranscodeError that says what is wrong."""
        with pytest.raises(TranscodeError, match=why):
            request_message(_route(table, "ListBooks"), {"shelf": "shelves/s"}, query, None)

    def test_body_field_and_dotted_path_variable_meet(self, table: list[RpcRoute]) -> None:
        """With body "book", the JSON is the book; the path fills book.name; query the rest."""
        request: Any = request_message(
            _route(table, "UpdateBook"),
            {"book.name": "shelves/s/books/b"},
            [("etag", "v7")],
            {"pages": "300", "archived": True},
        )
        assert (request.book.name, request.book.pages, request.book.archived) == (
            "shelves/s/books/b",
            300,
            True,
        )
        assert request.etag == "v7"
        with pytest.raises(TranscodeError, match="already given"):
            request_message(
                _route(table, "UpdateBook"), {"book.name": "n"}, [("book.pages", "1")], {}
            )

    def test_path_value_overrides_the_body(self, table: list[RpcRoute]) -> None:
        """With body "*", a field both in the path and the body takes the path's value."""
        request: Any = request_message(
            _route(table, "ArchiveBook"),
            {"name": "shelves/s/books/b"},
            [("ignored", "x")],
            {"name": "elsewhere", "pages": 3},
        )
        assert (request.name, request.pages) == ("shelves/s/books/b", 3)

    @pytest.mark.parametrize(
        ("body", "why"),
        [
            ([1, 2], "must be a JSON object"),
            ({"pagez": 1}, 'no field named "pagez"'),
            ({"pages": {"n": 1}}, "does not match Book"),
            ({"archived": "yes"}, "does not match Book"),
        ],
    )
    def test_bad_bodies_are_refused(self, table: list[RpcRoute], body: Any, why: str) -> None:
        """Non-objects, unknown fields and wrong types are TranscodeErrors."""
        with pytest.raises(TranscodeError, match=why):
            request_message(_route(table, "ArchiveBook"), {"name": "s"}, [], body)

    def test_json_body_parsing(self) -> None:
        """An empty body is {}; anything not JSON is refused with the parser's reason."""
        assert parse_json_body(b"  ") == {}
        assert parse_json_body(b'{"a": 1}') == {"a": 1}
        for bad in (b"{", b"\xff", b"[" * 100_000):
            with pytest.raises(TranscodeError, match="not valid JSON"):
                parse_json_body(bad)


class TestResponses:
    """Responses use lowerCamel names, print zeros, and honour response_body."""

    def test_response_body_selects_one_field(self, table: list[RpcRoute]) -> None:
        """ListTitles answers the books array itself; int64 travels as a string."""
        route = _route(table, "ListTitles")
        response = route_message(route, {"books": [{"name": "b", "pages": "12"}]})
        assert response_json(route, response) == [{"name": "b", "pages": "12", "archived": False}]

    def test_zero_values_are_present(self, table: list[RpcRoute]) -> None:
        """A default message still lists its scalar fields."""
        route = _route(table, "GetBook")
        assert message_json(route_message(route, {})) == {
            "name": "",
            "pages": "0",
            "archived": False,
        }


def route_message(route: RpcRoute, fields: dict[str, Any]) -> Any:
    """A response message of `route` with `fields` (JSON mapping)."""
    from google.protobuf import json_format

    from gateway.descriptors import message_class

    return json_format.ParseDict(fields, message_class(route.method.output_type)())


class TestOpenApi:
    """The OpenAPI document is valid 3.1 and says what the routes do."""

    def test_demo_document_is_valid_and_complete(self, table: list[RpcRoute]) -> None:
        """Paths, parameters, bodies, streaming and schemas follow the rules."""
        document = build_document(table, [_demo_file()])
        validate(document)  # type: ignore[arg-type]
        assert document["openapi"] == "3.1.0"
        paths = document["paths"]
        assert set(paths) == {
            "/v1/{shelf}/books",
            "/v1/{name}",
            "/v1/books/{name}",
            "/v1/{book.name}",
            "/v1/{name}:archive",
            "/v1/{shelf}/titles",
            "/v1/{shelf}/books:watch",
        }
        assert {o["operationId"] for p in paths.values() for o in p.values()} >= {
            "Library_GetBook",
            "Library_GetBook_2",
        }
        listing = paths["/v1/{shelf}/books"]["get"]
        names = {p["name"]: p for p in listing["parameters"]}
        assert set(names) == {
            "shelf",
            "tags",
            "colours",
            "filter.owner",
            "filter.includeArchived",
            "minPages",
            "since",
        }
        assert names["minPages"]["schema"] == {"type": "string", "format": "int64"}
        assert names["since"]["schema"]["format"] == "date-time"
        update = paths["/v1/{book.name}"]["patch"]
        assert update["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/certfree.demo.v1.Book"
        }
        assert "book.pages" not in {p["name"] for p in update["parameters"]}
        watch = paths["/v1/{shelf}/books:watch"]["get"]["responses"]["200"]["content"]
        assert "text/event-stream" in watch
        schemas = document["components"]["schemas"]
        assert schemas["certfree.demo.v1.Colour"]["enum"][1] == "COLOUR_RED"
        assert schemas["certfree.demo.v1.Book"]["properties"]["pages"]["format"] == "int64"
        assert "google.rpc.Status" in schemas

    def test_openapi_path_drops_patterns(self, table: list[RpcRoute]) -> None:
        """``{name=shelves/*}`` is written ``{name}``; the custom verb stays."""
        assert openapi_path(_route(table, "ArchiveBook")) == "/v1/{name}:archive"
