"""The shared module app.js, in the browser: Server-Sent Events over fetch, and el()."""

from __future__ import annotations

import json
from typing import Any

from playwright.async_api import Page, Route

from tests.conftest import HOUSING_BUREAU
from tests.ui.conftest import SignIn

STREAM = "/v1/proof-requests:streamInbox"
# Follow `path` until `count` messages arrived, then abort; the messages, or the error.
FOLLOW = """async ([path, count]) => {
  const app = await import("/ui/app.js");
  const controller = new AbortController();
  const got = [];
  try {
    await app.stream(path, (json, id) => {
      got.push({json, id});
      if (got.length >= count) controller.abort();
    }, {signal: controller.signal});
    return {got};
  } catch (error) {
    return {got, error: {name: error.name, status: error.status, message: error.message}};
  }
}"""


def _events(*events: tuple[str, dict[str, Any]], error: dict[str, Any] | None = None) -> str:
    body = "".join(f"id: {cursor}\ndata: {json.dumps(data)}\n\n" for cursor, data in events)
    if error is not None:
        body += f"event: error\ndata: {json.dumps(error)}\n\n"
    return body


class TestStream:
    """stream() delivers each data event with its id and resumes with Last-Event-ID."""

    async def test_the_real_inbox_stream_delivers_its_first_message(
        self, page: Page, sign_in: SignIn
    ) -> None:
        """Through the gateway, the officer's inbox stream's first message arrives with its
        cursor as the event id; aborting ends the stream quietly."""
        await sign_in(page, "officer", HOUSING_BUREAU, "officer-li")
        result = await page.evaluate(FOLLOW, [STREAM, 1])
        assert "error" not in result, result
        (first,) = result["got"]
        assert first["id"] and first["id"] == first["json"]["cursor"]

    async def test_a_dropped_stream_resumes_after_the_last_event(
        self, page: Page, sign_in: SignIn
    ) -> None:
        """When the connection ends, stream() reconnects sending Last-Event-ID, and the
        events after it arrive once each, in order."""
        await sign_in(page, "officer", HOUSING_BUREAU, "officer-li")
        asked: list[str | None] = []

        async def answer(route: Route) -> None:
            asked.append(await route.request.header_value("last-event-id"))
            if len(asked) == 1:
                body = _events(("c1", {"n": 1}), ("c2", {"n": 2}))
            else:
                body = _events(("c3", {"n": 3}))
            await route.fulfill(status=200, content_type="text/event-stream", body=body)

        await page.route(f"**{STREAM}", answer)
        result = await page.evaluate(FOLLOW, [STREAM, 3])
        assert "error" not in result, result
        assert [(m["id"], m["json"]["n"]) for m in result["got"]] == [
            ("c1", 1),
            ("c2", 2),
            ("c3", 3),
        ]
        assert asked == [None, "c2"]

    async def test_an_error_event_rejects_with_the_status(
        self, page: Page, sign_in: SignIn
    ) -> None:
        """An ``event: error`` mid-stream ends it with ApiError carrying the google.rpc.Status."""
        await sign_in(page, "officer", HOUSING_BUREAU, "officer-li")
        status = {"code": 14, "message": "the proofs service is unavailable", "details": []}

        async def answer(route: Route) -> None:
            body = _events(("c1", {"n": 1}), error=status)
            await route.fulfill(status=200, content_type="text/event-stream", body=body)

        await page.route(f"**{STREAM}", answer)
        result = await page.evaluate(FOLLOW, [STREAM, 5])
        assert [m["id"] for m in result["got"]] == ["c1"]
        assert result["error"] == {
            "name": "ApiError",
            "status": 200,
            "message": "the proofs service is unavailable",
        }


class TestElementBuilder:
    """el() sets text as text: markup in data never becomes elements."""

    async def test_text_is_never_html(self, page: Page) -> None:
        """A child string and the text attribute that look like HTML stay text."""
        await page.goto("/ui/")
        found = await page.evaluate(
            """async () => {
              const {el} = await import("/ui/app.js");
              const node = el("p", {id: "x", "aria-live": "polite"}, "<img src=x>",
                              el("span", {text: "<b>bold</b>"}));
              return [node.children.length, node.textContent, node.getAttribute("aria-live")];
            }"""
        )
        assert found == [1, "<img src=x><b>bold</b>", "polite"]
