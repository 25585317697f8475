"""tracker: a year-end fundraising campaign tracker for nonprofit newsrooms."""

# The single source of the version: pyproject.toml reads it from here (dynamic = ["version"]).
__version__ = "0.1.0"
