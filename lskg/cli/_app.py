"""The Typer application, its command groups and what every command shares (settings, output, errors).

Exit codes: 0 ok; 1 the command ran and its check failed (a non-conformant graph); 2 usage (Click's own);
3 a user-caused error (LskgError: bad file, bad query, unknown concept...), printed without a traceback
(``--debug`` shows it).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from typer.core import TyperGroup

from lskg.errors import LskgError
from lskg.settings import Settings

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)  # a message naming a long path stays one line in a log or a pipe

EXIT_CHECK_FAILED = 1
EXIT_USER_ERROR = 3


class LskgGroup(TyperGroup):
    """Prints LskgError as a short message (exit 3) instead of a traceback."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except LskgError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            err.print(f"[bold red]error:[/] {exc.message}", highlight=False)
            if exc.hint:
                err.print(f"[dim]hint: {exc.hint}[/]", highlight=False)
            raise typer.Exit(EXIT_USER_ERROR) from None


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(cls=LskgGroup, help=help_text, no_args_is_help=True, rich_markup_mode="rich",
                       pretty_exceptions_enable=False)


app = _group(
    "[bold]lskg[/]: a knowledge graph of deep learning for potential-landslide identification.\n\n"
    "Typical session:\n\n"
    "  lskg build                         # the embedded corpus -> ./lskg-store\n\n"
    "  lskg query models_for_context --param data=InSAR --param landslide_type=creeping\n\n"
    "  lskg recommend --data 'InSAR time series' --landslide-type creeping --task 'displacement prediction'\n\n"
    "  lskg serve                         # SPARQL endpoint, REST API and web page on http://127.0.0.1:8000")
evaluate_app = _group("Measure extraction and recommendation quality.")
concepts_app = _group("Browse ontology concepts and the candidate concepts extraction found.")
fetch_app = _group("Fetch study records from outside services.")
app.add_typer(evaluate_app, name="evaluate")
app.add_typer(concepts_app, name="concepts")
app.add_typer(fetch_app, name="fetch")


@app.callback()
def _root(ctx: typer.Context,
          verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log output (-vv: debug)")] = 0,
          debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for user errors too")] = False) -> None:
    ctx.obj = {"debug": debug}
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


StoreOption = Annotated[str | None, typer.Option(
    "--store", "-s", envvar="LSKG_STORE", show_envvar=True,
    help="Store folder (embedded pyoxigraph) or URL of a SPARQL 1.1 query endpoint. Default: ./lskg-store")]
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable JSON on stdout")]


def get_settings(store: str | None = None, **overrides: Any) -> Settings:
    """Settings from the environment, with CLI flags on top (only those given)."""
    values = {k: v for k, v in {"store": store, **overrides}.items() if v is not None}
    return Settings(**values)


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Any]:
    """A rich progress bar on stderr; yields a ``progress(stage, done, total)`` callback."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=err, transient=True, disable=not err.is_terminal) as bar:
        tasks: dict[str, Any] = {}

        def update(stage: str, done: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{description}: {stage}", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update
