"""The evidence layer (see ketamine_meta's docstring)."""
