"""The pipeline layer (see ketamine_meta's docstring)."""
