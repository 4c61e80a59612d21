"""The pages for people: ``gateway/ui/`` served at ``/ui/``, with ``/`` sending there.

The pages are public static files (plain ES modules, no build step); everything they
show comes from the gateway's own HTTP/JSON API, called with the person's token, so
this module adds no endpoint but ``/ui/config.json``: whether the development role
picker may appear (the gateway runs ``--insecure-dev``) and the default language.
Every ``/ui/`` response carries a Content-Security-Policy that lets a page load and
call nothing but this origin, so no page can fetch from, or leak to, anywhere else.
"""

from __future__ import annotations

from pathlib import Path

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

UI_DIRECTORY = Path(__file__).with_name("ui")
"""The pages' files, shipped as package data."""
UI_PREFIX = "/ui"
DEFAULT_LANGUAGE = "zh-CN"
"""The language a page shows until the person picks another."""
UI_ROUTE_TEMPLATE = "/ui/{path}"
"""What the access log and the metrics call a static file's route (one series for all)."""

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
)
"""Added to every ``/ui/`` response, errors included."""


class _UiFiles(StaticFiles):
    """StaticFiles whose refusals (404, 405) are plain responses, so they get the headers
    too (an HTTPException would be answered outside :class:`SecurityHeaders`)."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        try:
            return await super().get_response(path, scope)
        except HTTPException as error:
            return PlainTextResponse(str(error.detail), error.status_code, headers=error.headers)


class SecurityHeaders:
    """ASGI wrapper: names the route for the access log and adds :data:`SECURITY_HEADERS`."""

    def __init__(self, app: ASGIApp, route_template: str) -> None:
        self.app = app
        self.route_template = route_template

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the wrapped app, adding the headers to its response."""
        # The access log and the metrics read this; a file name is not a route.
        scope["route_template"] = self.route_template

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS:
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _redirect(request: Request) -> Response:
    """``/`` and ``/ui`` lead to the sign-in page."""
    return RedirectResponse(f"{UI_PREFIX}/", status_code=302)


def page_routes(*, dev_identity: bool) -> list[BaseRoute]:
    """The routes of the pages, to put before the transcoded API routes.

    `dev_identity` is whether the gateway forwards development identities
    (``--insecure-dev``): only then does ``config.json`` let the sign-in page offer its
    role picker. The services still decide what each caller may do.
    """
    settings = {"devIdentity": dev_identity, "defaultLanguage": DEFAULT_LANGUAGE}

    async def config(scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(settings, headers={"cache-control": "no-store"})
        await response(scope, receive, send)

    config_path = f"{UI_PREFIX}/config.json"
    return [
        Route("/", _redirect, methods=["GET", "HEAD"]),
        Route(UI_PREFIX, _redirect, methods=["GET", "HEAD"]),
        Route(config_path, SecurityHeaders(config, config_path), methods=["GET", "HEAD"]),
        Mount(
            UI_PREFIX,
            app=SecurityHeaders(_UiFiles(directory=UI_DIRECTORY, html=True), UI_ROUTE_TEMPLATE),
        ),
    ]
