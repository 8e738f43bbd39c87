# Shared paths and the resolved configuration. Every job writes into the staging folder WORK;
# only the last rule (publish) copies a complete, successful run into RESULTS, so a failed run
# leaves the previous results untouched.
import json
import re
import sys
from pathlib import Path

from ketamine_meta.config import validate_config
from ketamine_meta.errors import ConfigError

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
CODE_FILES = sorted(str(p) for p in Path("src/ketamine_meta").glob("*.py")) + sorted(
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
