"""The core layer (see ketamine_meta's docstring)."""
