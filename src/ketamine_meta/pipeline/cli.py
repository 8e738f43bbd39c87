"""Shared plumbing of the workflow scripts: typed arguments, logging to the job's log, clean exits.

Each script in ``workflow/scripts/`` imports the one step function it runs and hands it to
:func:`run_step`, so "find usages" leads from a rule to its code and a job imports only what its
step needs. Arguments are parsed against the function's annotations here, once: ``Path``,
``list[Path]``, ``int``, ``float`` and ``str`` values arrive typed, never as raw strings.
"""

from __future__ import annotations

import inspect
import logging
import os
import sys
import traceback
import typing
from collections.abc import Callable
from pathlib import Path

from ketamine_meta.core.errors import KetamineMetaError

#: Exit status of a step stopped by bad input (as opposed to a crash).
EXIT_BAD_INPUT = 2

_SCALARS = {"Path": Path, "int": int, "float": float, "str": str}


def run(step: Callable[[], None], log: str | None) -> int:
    """Run ``step``; log to ``log``. Bad input prints its message to stderr and exits 2."""
    handlers = [logging.StreamHandler(sys.stderr)]
    if log:
        handlers.append(logging.FileHandler(log, mode="w", encoding="utf-8"))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", handlers=handlers, force=True)
    try:
        step()
    except KetamineMetaError as err:
        logging.error("%s", err)
        return EXIT_BAD_INPUT
    except Exception:
        logging.error("unexpected failure:\n%s", traceback.format_exc())
        return 1
    logging.info("done")
    return 0


def parse_kwargs(argv: list[str]) -> dict[str, list[str]]:
    """``--name v`` -> {"name": ["v"]}; ``--name v1 v2`` -> {"name": ["v1", "v2"]}."""
    out: dict[str, list[str]] = {}
    key = None
    for tok in argv:
        if tok.startswith("--"):
            key = tok[2:].replace("-", "_")
            out[key] = []
        elif key is None:
            raise SystemExit(f"unexpected argument {tok!r}: arguments are --name value")
        else:
            out[key].append(tok)
    return out


def _convert(func: Callable, name: str, values: list[str]):
    """The command-line strings of parameter ``name`` as the type its annotation names."""
    hint = typing.get_type_hints(func).get(name, str)
    args = typing.get_args(hint)
    if args and type(None) in args:  # X | None: the value, when given, is an X
        hint = next(a for a in args if a is not type(None))
    if typing.get_origin(hint) is list:
        return [typing.get_args(hint)[0](v) for v in values]
    if len(values) != 1:
        raise SystemExit(f"--{name} takes one value, got {len(values)}: {values}")
    return hint(values[0]) if callable(hint) else values[0]


def typed_kwargs(func: Callable, argv: list[str]) -> dict:
    """Named command-line arguments checked against ``func``'s signature and converted by its hints."""
    params = inspect.signature(func).parameters
    raw = parse_kwargs(argv)
    unknown = sorted(set(raw) - set(params))
    if unknown:
        raise SystemExit(f"{func.__name__}: unknown argument(s) {', '.join('--' + u for u in unknown)}; "
                         f"it takes {' '.join('--' + p for p in params)}")  # fmt: skip
    missing = [p for p, spec in params.items() if spec.default is inspect.Parameter.empty and p not in raw]
    if missing:
        raise SystemExit(f"{func.__name__}: missing argument(s) {', '.join('--' + m for m in missing)}")
    return {name: _convert(func, name, values) for name, values in raw.items()}


def exit_with(code: int) -> typing.NoReturn:
    """End a workflow step's process with ``code`` at once, after flushing the log and stdio.

    Why not ``raise SystemExit``: tearing down an interpreter that has loaded pandas, SciPy and
    matplotlib takes ~0.5 s (measured on the forest step), paid by every job of a run. By the time
    a step returns, every output has been written and closed, so there is nothing left for the
    teardown to do; ``logging.shutdown`` flushes and closes the job's log first."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def run_step(step: Callable[..., None], argv: list[str] | None = None) -> int:
    """Entry point of ``workflow/scripts/<step>.py``: ``--name value`` arguments become the step's
    typed keywords; ``--log FILE`` is the job's log; ``--help`` prints the step's documentation."""
    argv = sys.argv[1:] if argv is None else argv
    if argv in (["-h"], ["--help"]):
        print(step.__doc__ or step.__name__)
        print("arguments:", " ".join(f"--{p}" for p in inspect.signature(step).parameters), "[--log FILE]")
        return 0
    log = None
    if "--log" in argv:
        i = argv.index("--log")
        log, argv = argv[i + 1], argv[:i] + argv[i + 2 :]
    kwargs = typed_kwargs(step, argv)
    return run(lambda: step(**kwargs), log)
