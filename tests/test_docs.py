"""Every command documents itself and is in the README (as sqlite-utils' test_docs does)."""

from pathlib import Path

import click
import pytest

from tracker.cli import cli

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def commands(group: click.Group, prefix: str = "tracker"):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):  # the lazy group loads each command module here
        command = group.get_command(ctx, name)
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            yield from commands(command, path)
        else:
            yield path, command


ALL = list(commands(cli))


def test_there_are_commands_to_check():
    assert {p for p, _ in ALL} >= {"tracker status", "tracker demo", "tracker ingest donations"}


@pytest.mark.parametrize("path, command", ALL, ids=[p for p, _ in ALL])
def test_command_has_help_with_an_example(path, command):
    assert command.help and "Example: tracker" in command.help, f"{path} needs a docstring with an example"


@pytest.mark.parametrize("path, command", ALL, ids=[p for p, _ in ALL])
def test_command_is_in_the_readme(path, command):
    assert f"`{path}" in README, f"{path} is missing from the README's CLI section"
