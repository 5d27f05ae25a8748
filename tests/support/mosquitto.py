"""The tests use the same Mosquitto runner as the benchmarks."""

from wallctl.bench.mosquitto import Mosquitto, free_port

__all__ = ["Mosquitto", "free_port"]
