"""Ingest: read donation files, validate and normalize each row, load the good ones.

Each source format has a module that turns rows into gifts, refunds, skipped rows or RowErrors
(generic, stripe, paypal, mapping, jsonl); `loader` writes them without ever counting a gift
twice; `run` streams a file through them in committed chunks.
"""

from tracker.ingest.fields import RowRules
from tracker.ingest.loader import ImportSummary
from tracker.ingest.records import NormalizedDonation
from tracker.ingest.run import FORMATS, ImportRequest, detect_format, import_state, run_import

__all__ = ["FORMATS", "ImportRequest", "ImportSummary", "NormalizedDonation", "RowRules", "detect_format",
           "import_state", "run_import"]
