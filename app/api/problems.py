"""Errors as problem details (RFC 9457): a type, a title, the status and the message in words."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from app.api.schemas import Problem

log = logging.getLogger(__name__)

MEDIA_TYPE = "application/problem+json"
_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class ApiProblem(Exception):
    """An error the API answers with a problem-details body; `kind` names it in `type`."""

    def __init__(
        self, status: int, detail: str, kind: str = "", headers: dict[str, str] | None = None
    ) -> None:
        """Keep the status, the message shown to the caller, the problem's name, extra headers."""
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.kind = kind
        self.headers = headers or {}


def problem(
    status: int, detail: str, kind: str = "", headers: dict[str, str] | None = None
) -> JSONResponse:
    """A problem-details response."""
    body = Problem(
        type=f"/problems/{kind}" if kind else "about:blank",
        title=_TITLES.get(status, "Error"),
        status=status,
        detail=detail,
    )
    headers = {**({"WWW-Authenticate": "Bearer"} if status == 401 else {}), **(headers or {})}
    return JSONResponse(
        body.model_dump(), status_code=status, media_type=MEDIA_TYPE, headers=headers
    )


def _validation_detail(err: RequestValidationError) -> str:
    """The first validation error in words, with where it is (`body.question: …`)."""
    first = err.errors()[0] if err.errors() else {}
    where = ".".join(str(p) for p in first.get("loc", ()))
    message = str(first.get("msg", "invalid request")).removeprefix("Value error, ")
    if first.get("type") == "extra_forbidden":
        message = "not a field of this request (a conversation's account is fixed when it starts)"
    return f"{where}: {message}" if where else message


def install(app: FastAPI) -> None:
    """Answer every error of the app as problem details, never with a stack trace."""

    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiProblem)
        return problem(exc.status, exc.detail, exc.kind, exc.headers)

    async def on_invalid(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem(422, _validation_detail(exc), "invalid-request")

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        return problem(exc.status_code, str(exc.detail))

    async def on_error(_: Request, exc: Exception) -> JSONResponse:
        log.exception("internal error in the HTTP API")
        return problem(500, f"Something went wrong ({type(exc).__name__}).", "internal")

    app.add_exception_handler(ApiProblem, on_problem)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(HTTPException, on_http)
    app.add_exception_handler(Exception, on_error)
