"""Command-line commands of the merchant package (added to ``kindpakket`` by the shell)."""

import click

commands: list[click.Command] = []
