"""The HTTP/JSON gateway: transcodes requests to certfree's gRPC services.

Routes, request and response shapes and the OpenAPI document all come from the
``google.api.http`` annotations of the proto contract (``protos/``); the gateway
holds no business logic. Start with :func:`gateway.app.build_app` and
:func:`gateway.server.start_gateway`; ``docs/gateway.md`` explains the rest.
"""
