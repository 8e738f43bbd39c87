"""The data layer (see ketamine_meta's docstring)."""
