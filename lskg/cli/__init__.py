"""The ``lskg`` command line: thin commands over the library (parse, call, render).

Commands live in modules by area and register themselves on the shared app when imported.
"""

from lskg.cli import core, extract, gnn, serve  # noqa: F401 - registers the commands
from lskg.cli._app import app


def main() -> None:
    app(prog_name="lskg")


__all__ = ["app", "main"]
