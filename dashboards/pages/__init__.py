"""Dashboard pages: each module has layout() and the functions its callbacks call."""
