"""The tracker's exception hierarchy.

Library code raises these; only entry points (CLI, Dash callbacks, jobs) turn them into
messages for people. Every message says what is wrong and, where it can, how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass


class TrackerError(Exception):
    """Base class for every error a user may see. The message is one line."""

    exit_code = 1


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
