"""argparse pieces shared by every command module (``genlab.cli`` and each family's ``cli.py``).

They live below every layer so that a family's commands can use them without importing
``genlab.cli``, which imports the families.
"""

from __future__ import annotations

import argparse


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if v <= 0:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {v}")
    return v


def non_negative_float(text: str) -> float:
    """argparse type: a number >= 0 (not NaN)."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not v >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return v


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line on stderr with exit code 2."""

    def error(self, message):
        self.exit(2, f"genlab: error: {message} (see '{self.prog} --help')\n")


def add_actions(parser: argparse.ArgumentParser, dest: str):
    """The required ACTION subcommands of a command (``genlab runs list``, ``genlab data info``):
    the chosen name lands in ``dest``, and each action's parser is a :class:`Parser`."""
    actions = parser.add_subparsers(dest=dest, metavar="ACTION", parser_class=Parser)
    actions.required = True
    return actions
