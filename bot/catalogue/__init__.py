"""The mandate catalogue: validation, import/export and the organisational tree."""
