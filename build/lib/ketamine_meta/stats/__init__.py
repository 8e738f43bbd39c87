"""The stats layer (see ketamine_meta's docstring)."""
