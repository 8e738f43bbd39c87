"""Shared plumbing of the workflow scripts: logging to the job's log and clean error exits."""

from __future__ import annotations

import logging
import sys
import traceback
from collections.abc import Callable

from .errors import KetamineMetaError

#: Exit status of a step stopped by bad input (as opposed to a crash).
EXIT_BAD_INPUT = 2


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


def parse_kwargs(argv: list[str]) -> dict:
    """``--name v`` -> {"name": "v"}; ``--name v1 v2`` -> {"name": ["v1", "v2"]}."""
    out: dict = {}
    key = None
    for tok in argv:
        if tok.startswith("--"):
            key = tok[2:].replace("-", "_")
            out[key] = []
        elif key is None:
            raise SystemExit(f"unexpected argument {tok!r}: arguments are --name value")
        else:
            out[key].append(tok)
    return {k: (v[0] if len(v) == 1 else v) for k, v in out.items()}


def main(step_name: str, argv: list[str] | None = None) -> int:
    """Entry point of ``workflow/scripts/<step>.py``: named arguments become the step's keywords.

    ``python workflow/scripts/pool.py --help`` prints the step's documentation.
    """
    import importlib

    # "pool" -> ketamine_meta.steps.pool; "report.build" -> ketamine_meta.report.build
    module, _, func = step_name.rpartition(".")
    step = getattr(importlib.import_module(f"ketamine_meta.{module or 'steps'}"), func)
    argv = sys.argv[1:] if argv is None else argv
    if argv in (["-h"], ["--help"]):
        print(step.__doc__ or step_name)
        import inspect

        print("arguments:", " ".join(f"--{p}" for p in inspect.signature(step).parameters), "[--log FILE]")
        return 0
    kwargs = parse_kwargs(argv)
    log = kwargs.pop("log", None)
    return run(lambda: step(**kwargs), log)
