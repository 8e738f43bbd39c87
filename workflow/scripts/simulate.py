"""Workflow step 'simulate': ``simulate.py cell ...`` runs ketamine_meta.simulation.cell_step (one k x tau2
cell), ``simulate.py summary ...`` runs ketamine_meta.simulation.summary_step (table and figure).
Add ``--help`` after the part name for its arguments."""

import sys

from ketamine_meta.cli import main

PARTS = {"cell": "simulation.cell_step", "summary": "simulation.summary_step"}

if len(sys.argv) < 2 or sys.argv[1] not in PARTS:
    raise SystemExit(f"usage: simulate.py {{{'|'.join(PARTS)}}} --name value ... [--log FILE]")
raise SystemExit(main(PARTS[sys.argv[1]], sys.argv[2:]))
