"""Speed and memory benchmarks of propdetect (pytest-benchmark); see BENCHMARKS.md for the command."""
