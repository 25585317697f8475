"""The tracker's exception hierarchy.

Library code raises these; only entry points (CLI, Dash callbacks, jobs, the HTTP API) turn them
into messages for people. Every message says what is wrong. Where the fix is to give an input
(which campaign, which days), the error names that input in `field` and the values it could take
in `choices`, and each edge says how to give it in its own words: the CLI names its option
(`--campaign SLUG`), the configuration file its key (`campaign = "SLUG"`), the API its parameter.
The library never writes an edge's words into a message.
"""

from __future__ import annotations

from dataclasses import dataclass


class TrackerError(Exception):
    """Base class for every error a user may see. The message is one line.

    `field`: the input that would fix it ("campaign", "from/to", ...), in the tracker's own words;
    `choices`: the values that input could take; `kind`: "unknown" (the value given names
    nothing), "missing" (one must be chosen), "none" (there is nothing to choose yet), or None.
    """

    exit_code = 1

    def __init__(self, message: str = "", *, field: str | None = None, choices=(), kind: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.choices = tuple(choices)
        self.kind = kind


class UsageError(TrackerError):
    """The command was asked for something it cannot do as given (exit status 2)."""

    exit_code = 2


class ConfigError(UsageError):
    """Bad configuration: an unknown time zone, an unreachable database URL, ..."""


class DatabaseError(TrackerError):
    """The database cannot be reached or used."""


class SchemaError(TrackerError):
    """The database schema is missing or older than this version of the tracker."""


class NotFound(UsageError):
    """A named thing (campaign, import, ...) does not exist."""


class InputFileError(TrackerError):
    """A whole input file cannot be read (missing, unreadable, missing required columns)."""


@dataclass(frozen=True)
class RowError:
    """One bad input row: where it is and what is wrong with it, in words that say how to fix it."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class ValueProblem(ValueError):
    """A single value cannot be read; the message is meant for a person."""
