"""Cross-service suites: journeys, harnesses and benchmarks."""
