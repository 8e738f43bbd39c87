"""The outputs layer (see ketamine_meta's docstring)."""
