"""What every command module shares: the ``--database`` option, error reporting, the environment."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Annotated, Any, TypeVar

import typer

from xrm.data import Environment
from xrm.errors import XrmError
from xrm.schema import database_url, open_engine

__all__ = ["Database", "environment", "user_errors"]

Database = Annotated[
    str | None,
    typer.Option(
        "--database",
        "-d",
        help="Database URL (default: XRM_DATABASE_URL, else sqlite file ./xrm.db).",
        show_default=False,
    ),
]

F = TypeVar("F", bound=Callable[..., Any])


def user_errors(function: F) -> F:
    """Print xrm's own errors as messages and exit 1, instead of a traceback."""

    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except XrmError as error:
            typer.secho(f"error [{error.code}]: {error.message}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def environment(database: str | None) -> Environment:
    """The installed model of the database, with plugins and record security bound."""
    from xrm.plugin import open_environment

    return open_environment(open_engine(database_url(database)))
