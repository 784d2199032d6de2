"""The municipality's commands speak one language: ``--lang nl|en`` (default Dutch).

Messages are English msgids (``lazy_gettext`` with parameters; Dutch in the .po fragments),
rendered by :func:`say` under ``flask_babel.force_locale`` in the command's language.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from flask_babel import force_locale

LANGUAGES = ("nl", "en")
DEFAULT = "nl"
_META = "kindpakket.cli_language"
F = TypeVar("F", bound=Callable[..., Any])


def _remember(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        ctx.meta[_META] = value
    return value


def lang_option(command: F) -> F:
    """Add ``--lang`` (the language of the command's messages) to a command."""
    return click.option(
        "--lang",
        type=click.Choice(LANGUAGES),
        default=None,
        expose_value=False,
        is_eager=True,
        callback=_remember,
        help="language of the messages: nl (default) or en",
    )(command)


def cli_language() -> str:
    """Return the running command's language: its ``--lang``, else Dutch."""
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return DEFAULT
    chosen = ctx.meta.get(_META) or ctx.params.get("language")
    return chosen if chosen in LANGUAGES else DEFAULT


def say(message: Any) -> str:
    """Return ``message`` (a lazy string, or plain text) in the command's language."""
    with force_locale(cli_language()):
        return str(message)


def echo(message: Any, *, err: bool = False, nl: bool = True) -> None:
    """Print ``message`` in the command's language."""
    click.echo(say(message), err=err, nl=nl)
