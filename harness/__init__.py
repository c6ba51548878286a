"""Private copies of the platform, for the integration tests and the benchmarks (bench imports nothing from tests)."""
