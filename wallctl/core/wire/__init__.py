"""The wire format: strict JSON out, operator commands in."""
