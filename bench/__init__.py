"""genlab benchmarks: `python -m bench [NAME ...]` runs bench/bench_NAME.py and prints figures."""
