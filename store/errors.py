"""The store's errors: a stable ``code``, the facts as ``values``, and one English sentence.

The UI says an error in the cashier's language from ``code`` and ``values``
(``tui.errors``); str() is the English sentence for logs and the back-office
CLI. Nothing ever reads the sentence to find out what happened.
"""
from __future__ import annotations

from typing import Any, Dict


class StoreError(Exception):
    """An error a cashier or shop owner can meet: ``code``, ``values`` and one sentence."""

    def __init__(self, message: str, code: str, **values: Any) -> None:
        super().__init__(message)
        self.code = code
        self.values: Dict[str, Any] = values


class ServerError(StoreError):
    """The shop's server could not be reached or did not do what was asked: one sentence, password redacted."""

    def __init__(self, message: str, code: str = "server_error", **values: Any) -> None:
        super().__init__(message, code, **values)


class BatchRefused(ServerError):
    """The server refused a till's batch (its chain broken, or a second till claiming the id); it is recorded."""


def server_error(exc: Exception, what: str = "the request") -> Exception:
    """A psycopg2 error as the one-sentence ServerError ("The server refused <what>: ...", password redacted);
    any other error (a ServerError, a DocumentError of the caller's plan) as it is."""
    import psycopg2

    if not isinstance(exc, psycopg2.Error):
        return exc
    from store.db import redact

    first = redact(str(exc).strip().split("\n")[0]) or type(exc).__name__
    return ServerError(f"The server refused {what}: {first}", "server_failed", detail=first)
