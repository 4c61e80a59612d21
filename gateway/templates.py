"""Path templates of ``google.api.http`` rules: parse once, match many times.

The grammar is the one ``google/api/http.proto`` defines::

    Template = "/" Segments [ Verb ] ;
    Segments = Segment { "/" Segment } ;
    Segment  = "*" | "**" | LITERAL | Variable ;
    Variable = "{" FieldPath [ "=" Segments ] "}" ;
    FieldPath = IDENT { "." IDENT } ;
    Verb     = ":" LITERAL ;

A template compiles to one regular expression over the *raw* (still
percent-encoded) request path. A variable's value is percent-decoded; in a
variable that spans several segments (``{name=shelves/*/books/*}``), ``/`` stays
a separator and an encoded ``%2F`` inside a segment is kept as ``/`` after
decoding that segment alone, as the spec's "reserved expansion" asks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_LITERAL = re.compile(r"^[A-Za-z0-9._~!$&'()+,;=@-]+$")


class TemplateError(ValueError):
    """A path template does not follow the google.api.http grammar; the message says where."""


@dataclass(frozen=True)
class Variable:
    """One ``{field}`` of a template."""

    field_path: str
    """The request field it binds, dotted for nested fields: ``attestation.artefact_id``."""
    multi_segment: bool
    """True when the value may contain ``/`` (its pattern spans segments or uses ``**``)."""


@dataclass(frozen=True)
class PathTemplate:
    """A compiled path template."""

    template: str
    """The template as written in the proto: ``/v1/ledger/entries/{index}``."""
    variables: tuple[Variable, ...]
    """The variables, in order of appearance."""
    verb: str
    """The custom verb after the last ``:`` (``batchAppend``), or empty."""
    literal_segments: int
    """How many segments are plain literals; more literals match first."""
    regex: re.Pattern[str]
    """The expression a raw request path must match in full."""

    def match(self, raw_path: str) -> dict[str, str] | None:
        """The decoded value of each variable, by field path, or None when `raw_path` differs."""
        found = self.regex.fullmatch(raw_path)
        if found is None:
            return None
        values: dict[str, str] = {}
        for number, variable in enumerate(self.variables):
            raw = found.group(f"v{number}")
            if variable.multi_segment:
                values[variable.field_path] = "/".join(unquote(part) for part in raw.split("/"))
            else:
                values[variable.field_path] = unquote(raw)
        return values


def _split_top_level(text: str, template: str) -> list[str]:
    """Split on ``/`` outside braces."""
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        if char == "{":
            depth += 1
            if depth > 1:
                raise TemplateError(f"{template!r}: variables cannot nest")
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise TemplateError(f"{template!r}: '}}' without '{{'")
        if char == "/" and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if depth != 0:
        raise TemplateError(f"{template!r}: '{{' without '}}'")
    parts.append("".join(current))
    return parts


def _split_verb(segments: list[str], template: str) -> tuple[list[str], str]:
    """Take the custom verb off the last segment (a ``:`` outside braces)."""
    last = segments[-1]
    colon = last.rfind(":")
    if colon == -1 or colon < last.rfind("}"):
        return segments, ""
    verb = last[colon + 1 :]
    if not _LITERAL.match(verb):
        raise TemplateError(f"{template!r}: custom verb {verb!r} is not a literal")
    return [*segments[:-1], last[:colon]], verb


def _segment_pattern(segment: str, template: str) -> str:
    """The expression of one segment inside or outside a variable."""
    if segment == "*":
        return "[^/]+"
    if segment == "**":
        return "[^/]*(?:/[^/]+)*"
    if not _LITERAL.match(segment):
        raise TemplateError(f"{template!r}: {segment!r} is not a literal, '*' or '**'")
    return re.escape(segment)


def _variable(segment: str, number: int, template: str) -> tuple[Variable, str]:
    """Parse ``{field}`` or ``{field=segments}`` into a Variable and its named group."""
    inner = segment[1:-1]
    field_path, _, pattern = inner.partition("=")
    if not _IDENT.match(field_path):
        raise TemplateError(f"{template!r}: {field_path!r} is not a field path")
    pieces = pattern.split("/") if pattern else ["*"]
    if "**" in pieces[:-1]:
        raise TemplateError(f"{template!r}: '**' may only end a variable")
    body = "/".join(_segment_pattern(piece, template) for piece in pieces)
    multi = len(pieces) > 1 or pieces[-1] == "**"
    return Variable(field_path, multi), f"(?P<v{number}>{body})"


def parse_template(template: str) -> PathTemplate:
    """Compile a google.api.http path template; raises TemplateError when malformed."""
    if not template.startswith("/"):
        raise TemplateError(f"{template!r}: a path template starts with '/'")
    segments, verb = _split_verb(_split_top_level(template[1:], template), template)
    variables: list[Variable] = []
    patterns: list[str] = []
    literals = 0
    for position, segment in enumerate(segments):
        if segment.startswith("{") and segment.endswith("}"):
            variable, pattern = _variable(segment, len(variables), template)
            variables.append(variable)
            patterns.append(pattern)
        elif "{" in segment or "}" in segment:
            raise TemplateError(f"{template!r}: a variable must be a whole segment")
        else:
            if segment == "**" and position != len(segments) - 1:
                raise TemplateError(f"{template!r}: '**' may only end a template")
            patterns.append(_segment_pattern(segment, template))
            literals += segment not in ("*", "**")
    names = [v.field_path for v in variables]
    if len(set(names)) != len(names):
        raise TemplateError(f"{template!r}: a field is bound twice")
    expression = "/" + "/".join(patterns) + (":" + re.escape(verb) if verb else "")
    return PathTemplate(
        template=template,
        variables=tuple(variables),
        verb=verb,
        literal_segments=literals,
        regex=re.compile(expression),
    )
