"""The embeddable assistant: its web component served as a static file, and CORS for host pages.

A reporting page on another origin includes `<script type="module" src="…/embed/
ledgerlens-assistant.js">` and a `<ledgerlens-assistant token=… metric=…>` element; the element
calls this API from the browser, which only origins in the `api_cors_origins` setting may do.
"""

from __future__ import annotations

import functools
from importlib.resources import files

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import Response

from app.core.settings import Settings

SCRIPT = "ledgerlens-assistant.js"


@functools.cache
def component_source() -> str:
    """The web component's JavaScript (package data of app.api)."""
    return files("app.api").joinpath("static", SCRIPT).read_text(encoding="utf-8")


def cors_origins(settings: Settings) -> list[str]:
    """The origins of the `api_cors_origins` setting, without trailing slashes."""
    return [o.strip().rstrip("/") for o in settings.api_cors_origins.split(",") if o.strip()]


def install_embed(app: FastAPI, settings: Settings) -> None:
    """Serve the web component and allow the configured origins (and only them) to call."""
    origins = cors_origins(settings)
    if "*" in origins:
        raise ValueError("api_cors_origins must name origins; '*' would let any page call.")
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Accept"],
            expose_headers=["Location", "Retry-After"],
            max_age=600,
        )

    @app.get(f"/embed/{SCRIPT}", include_in_schema=False)
    def component() -> Response:
        """The `<ledgerlens-assistant>` custom element (plain JavaScript, no build step)."""
        return Response(
            component_source(),
            media_type="text/javascript; charset=utf-8",
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )
