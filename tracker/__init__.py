"""tracker: a year-end fundraising campaign tracker for nonprofit newsrooms."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tracker")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
