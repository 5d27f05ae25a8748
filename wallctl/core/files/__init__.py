"""Reading files: YAML within limits, with the location of every value, and the typed spec builder on top."""
