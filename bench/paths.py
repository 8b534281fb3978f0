"""Where the benchmark and the repository are."""
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
