"""The ``mbo-sim-data`` command: tools that refresh the input data in ``data/`` from their sources.

    mbo-sim-data [--tables TABLE ...] [--data-dir DIR] [--offline | --from-recording DIR]
    mbo-sim-data cbs [the same options]

The first argument names a subcommand, an entry of :data:`COMMANDS`. Without a subcommand name
the default, ``cbs``, gets all the arguments: ``mbo-sim-data --offline`` is
``mbo-sim-data cbs --offline``, with the same help and error messages under the name
``mbo-sim-data``. A new tool is one more :class:`Command` in :data:`COMMANDS`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim.datatools import cbs, duo
from sim.io.loaders import FILES, DataError
from sim.io.safe import UnsafeOutput

PROG = "mbo-sim-data"


@dataclass(frozen=True)
class Command:
    """A subcommand: its description, how it declares its arguments, and how it runs the parsed
    arguments (``run(args, **hooks)`` returns the exit status; hooks are keyword arguments of
    :func:`main` meant for tests)."""

    description: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[..., int]


# --------------------------------------------------------------------------- cbs


def _cbs_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tables", nargs="+", default=list(cbs.DEFAULT_TABLES), choices=cbs.ALL_TABLES,
                        metavar="TABLE",
                        help=f"CBS tables to refresh (default: {' '.join(cbs.DEFAULT_TABLES)}; or 85173NED)")
    parser.add_argument("--data-dir", default="data", help="folder with municipalities.csv; outputs go here")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--offline", action="store_true", help="do not contact CBS; keep the shipped snapshot")
    mode.add_argument("--from-recording", metavar="DIR",
                      help="read recorded responses DIR/<table>.json and DIR/<table>.<meta>.json instead of CBS")


def _snapshot_note(data_dir: Path) -> str:
    return (f"the shipped snapshot in {data_dir}/ is used ({FILES['municipalities']}, {FILES['population']}); "
            "no files changed.")


def _cbs_run(args: argparse.Namespace, *, fetch: cbs.Fetch | None = None, today: dt.date | None = None) -> int:
    data_dir = Path(args.data_dir)
    if args.offline:
        print(f"--offline: CBS not contacted; {_snapshot_note(data_dir)}")
        return 0
    origin = "CBS open data (cbsodata)"
    if args.from_recording:
        fetch = cbs.recording_fetch(args.from_recording)
        origin = f"recording {args.from_recording}"
    try:
        result = cbs.refresh(data_dir, args.tables, fetch or cbs.cbsodata_fetch, today=today, origin=origin)
    except cbs.NetworkUnavailable as exc:
        print(f"CBS open data not reachable ({exc}); {_snapshot_note(data_dir)}")
        return 0
    except (DataError, UnsafeOutput) as exc:
        print(f"{PROG}: error: {exc}\nNo files were written.", file=sys.stderr)
        return 1
    except OSError as exc:  # disk full, permissions, ...: the temporary files are already gone
        print(f"{PROG}: error: could not write to {data_dir}: {exc}\nNo files were written.", file=sys.stderr)
        return 1
    for msg in result.messages:
        print(msg)
    for path in result.written:
        print(f"wrote {path}")
    return 0


# --------------------------------------------------------------------------- the command

COMMANDS: dict[str, Command] = {
    "cbs": Command(
        description="Refresh municipal population totals (85984NED) and forecast totals (85171NED/85173NED) from "
                    "CBS open data into data/; check 83502NED. Falls back to the shipped snapshot when offline.",
        add_arguments=_cbs_arguments,
        run=_cbs_run,
    ),
    "duo": Command(description=duo.DESCRIPTION, add_arguments=duo.add_arguments, run=duo.run),
}
DEFAULT = "cbs"


def parser(name: str = DEFAULT, named: bool = False) -> argparse.ArgumentParser:
    """The argument parser of subcommand ``name``; ``named``: it was given on the command line."""
    epilog = None if named else (f"commands: {', '.join(COMMANDS)}; without one, {DEFAULT} (the options above). "
                                 f"'{PROG} COMMAND --help' shows a command's options.")
    p = argparse.ArgumentParser(prog=f"{PROG} {name}" if named else PROG, description=COMMANDS[name].description,
                                epilog=epilog)
    COMMANDS[name].add_arguments(p)
    return p


def main(argv: Sequence[str] | None = None, **hooks: Any) -> int:
    """Run ``mbo-sim-data [COMMAND] ARGS``; ``hooks`` go to the command's run (e.g. ``fetch=``, ``today=``
    for cbs in tests)."""
    args = list(sys.argv[1:] if argv is None else argv)
    named = bool(args) and args[0] in COMMANDS
    name = args.pop(0) if named else DEFAULT
    return COMMANDS[name].run(parser(name, named).parse_args(args), **hooks)


if __name__ == "__main__":
    sys.exit(main())
