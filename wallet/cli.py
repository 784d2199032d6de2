"""Command-line commands of the wallet package (added to ``kindpakket`` by the shell)."""

import click

commands: list[click.Command] = []
