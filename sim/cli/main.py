"""The `sim` command: a thin shell over the library, one module per command.

Errors a user can fix (a bad file, a bad value, a missing run) are :class:`SimError` s and
end as one message on stderr and exit code 2; nothing half-written is left behind.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.console import Console

from sim import __version__
from sim.cli import calibrate, compare, fit, policies, quote, report, run, schema, sensitivity, size, sweep, validate
from sim.errors import RunInterrupted, SimError
from sim.runs.lock import set_command

app = typer.Typer(
    name="sim",
    help="Simulate AI and compute subsidy policies: who claims what, from which pool, and what budget it takes.",
    no_args_is_help=True,
    add_completion=True,  # sim --install-completion (bash, zsh, fish, PowerShell)
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        print(f"sim {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", help="Print sim's version and exit.", is_eager=True,
                                                callback=_version)] = False) -> None:
    """Simulate AI and compute subsidy policies: who claims what, from which pool, and what budget it takes.

    Example: sim run scenarios/binjiang.yaml --report
    """
app.command("run")(run.run)
app.command("validate")(validate.validate)
app.command("policies")(policies.policies)
app.command("quote")(quote.quote)
app.command("report")(report.report)
app.command("size")(size.size)
app.command("sweep")(sweep.sweep)
app.command("schema")(schema.schema)
app.command("fit")(fit.fit_command)
app.command("compare")(compare.compare)
app.command("sensitivity")(sensitivity.sensitivity)
app.command("calibrate")(calibrate.calibrate)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return the exit code (0 success, 2 a user error, 130 interrupted, 1 aborted)."""
    set_command(sys.argv[1:] if argv is None else argv)
    try:
        app(args=argv, prog_name="sim")
    except SystemExit as exc:  # typer ends every command this way, 0 included
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except SimError as exc:
        # markup and emoji off: a message is printed exactly as written (":100:" stays ":100:")
        Console(stderr=True, highlight=False, soft_wrap=True, markup=False, emoji=False).print(f"error: {exc}")
        return 130 if isinstance(exc, RunInterrupted) else 2
    return 0


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
