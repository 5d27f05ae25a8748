"""Configuration files: one loading pipeline (limits, locations of errors, schema) for run, validate and preview."""
