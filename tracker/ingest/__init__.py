"""Ingest: read donation files, validate and normalize each row, load the good ones.

Each source format has a module that turns rows into `NormalizedDonation`s or `RowError`s;
`loader` writes them to the database without ever counting a gift twice.
"""

from tracker.ingest.loader import ImportSummary, import_donations
from tracker.ingest.records import NormalizedDonation

__all__ = ["ImportSummary", "NormalizedDonation", "import_donations"]
