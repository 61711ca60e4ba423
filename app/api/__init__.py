"""The HTTP API: conversations and messages over the router, served by `ledgerlens serve`."""

from app.api.app import create_app

__all__ = ["create_app"]
