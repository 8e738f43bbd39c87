"""The claims layer (see ketamine_meta's docstring)."""
