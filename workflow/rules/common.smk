# Shared paths and the resolved configuration. Every job writes into the staging folder WORK;
# only the last rule (publish) copies a complete, successful run into RESULTS, so a failed run
# leaves the previous results untouched.
import atexit
import json
import re
import sys
from pathlib import Path

from ketamine_meta.core.config import validate_config
from ketamine_meta.core.errors import REPORTED_BY_VALIDATE, ConfigError

try:
    validate_config(config, source="config (config/config.yaml + --config)")
except ConfigError as err:
    raise WorkflowError(str(err)) from None

RESULTS = str(Path(config["results_dir"]))  # normalised: no trailing separator
# default staging folder: one per results folder, so two result sets never share intermediates
WORK = str(
    Path(
        config["work_dir"]
        or f".work/{re.sub('[^A-Za-z0-9]+', '_', RESULTS).strip('_')}"
    )
)
DATA = str(Path(config["data_dir"]))
# the documents' titles (optional: without the file, documents are named by file name)
DOCUMENTS = [f for f in [config.get("documents_file") or ""] if f and Path(f).is_file()]
SCRIPTS = str(Path(workflow.basedir) / "workflow" / "scripts")
# Only existing tables are declared as inputs: a missing one is reported by the validate step
# in the project's own words (file, rule, fix) rather than as a Snakemake "missing input".
DATA_TABLES = sorted(str(p) for p in Path(DATA).glob("*.csv"))
CODE_FILES = sorted(str(p) for p in Path("src/ketamine_meta").rglob("*.py")) + sorted(
    str(p) for p in Path("workflow").rglob("*.smk")
)


ENV = "../envs/ketamine_meta.yaml"


def _python():
    """The interpreter running Snakemake (whose environment has ketamine_meta), so a step never
    picks up another `python` from PATH; under --sdm conda, the rule environment's python.
    """
    methods = getattr(
        getattr(workflow, "deployment_settings", None), "deployment_method", ()
    )
    return (
        "python" if any("conda" in str(m).lower() for m in methods) else sys.executable
    )


def step(name):
    """Shell prefix of a workflow step script (runs outside Snakemake as well)."""
    return f"{_python()} {SCRIPTS}/{name}.py"


def stop_rescheduling_timers():
    """Cancel Snakemake's pending job-scheduler re-evaluation timers (``threading.Timer``, 1 s,
    not daemon threads) once the run is over: Python waits for them before it exits, which added
    ~1.4 s to every run, a tenth of a cold one (Snakemake 9.27). Only those timers are touched,
    found by their callback's name; if Snakemake renames it, nothing is cancelled and the run is
    just slower to exit."""
    import threading

    for t in threading.enumerate():
        fn = getattr(t, "function", None)
        if isinstance(t, threading.Timer) and "_schedule_reev" in getattr(
            fn, "__qualname__", ""
        ):
            t.cancel()


def report_failure(snakemake_log, out=sys.stderr, max_lines=8):
    """What a failed run prints last (called by the Snakefile's ``onerror``): which step failed,
    the first lines of its message and where the whole message is. Snakemake prints its own
    "At least one job did not complete successfully" after the handler, so the one-line summary
    is printed again when the process exits, as the very last line.
    """
    logs = (
        [snakemake_log] if isinstance(snakemake_log, str) else list(snakemake_log or [])
    )
    text = "".join(
        Path(p).read_text(encoding="utf-8", errors="replace")
        for p in logs
        if Path(p).is_file()
    )
    # "rul[e]": the literal words would make `snakemake --lint` see a rule in this file
    failed = dict(re.findall(r"Error in rul[e] (\w+):\n(?:.*\n)*?\s+log: (\S+)", text))
    bodies = {
        rule_name: (
            Path(job_log).read_text(encoding="utf-8", errors="replace")
            if Path(job_log).is_file()
            else ""
        )
        for rule_name, job_log in failed.items()
    }
    if "validate" in failed:
        # steps started beside validate fail on the same bad input and defer to its message
        failed = {
            r: job_log
            for r, job_log in failed.items()
            if r == "validate" or REPORTED_BY_VALIDATE not in bodies[r]
        }
    lines, last = [], []
    for rule_name, job_log in failed.items():
        body = bodies[rule_name]
        first = [l for l in body.splitlines() if l.strip() and not l.startswith("INFO")]
        lines.append(
            f"ketamine-meta: step '{rule_name}' failed; its message is in {job_log}"
        )
        lines += [f"  {l}" for l in first[:max_lines]]
        head = first[0].removeprefix("ERROR ").rstrip(":") if first else "see the log"
        last.append(f"step '{rule_name}' failed ({head}); full message in {job_log}")
    if not failed:
        last.append(f"the run failed; see Snakemake's log {', '.join(logs)}")
    results = f"nothing was published, {RESULTS}/ is as it was"
    lines.append(f"ketamine-meta: {results}")
    print("\n".join(lines), file=out)
    atexit.register(
        print, f"ketamine-meta FAILED: {'; '.join(last)}; {results}", file=out
    )
