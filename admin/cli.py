"""Command-line commands of the admin package (added to ``kindpakket`` by the shell)."""

import click

commands: list[click.Command] = []
