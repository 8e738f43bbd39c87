"""Workflow step 'simulate': ``simulate.py cell ...`` runs ketamine_meta.pipeline.publish_steps.simulation_cell_step
(one k x tau2 cell), ``simulate.py summary ...`` runs ketamine_meta.pipeline.publish_steps.simulation_summary_step
(table and figure). Add ``--help`` after the part name for its arguments."""

import sys

from ketamine_meta.pipeline.cli import exit_with, run_step
from ketamine_meta.pipeline.publish_steps import simulation_cell_step, simulation_summary_step

PARTS = {"cell": simulation_cell_step, "summary": simulation_summary_step}

if len(sys.argv) < 2 or sys.argv[1] not in PARTS:
    raise SystemExit(f"usage: simulate.py {{{'|'.join(PARTS)}}} --name value ... [--log FILE]")
exit_with(run_step(PARTS[sys.argv[1]], sys.argv[2:]))
