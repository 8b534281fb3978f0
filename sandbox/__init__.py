"""Fake MYOB Acumatica and fake Ocerra servers for the toolkit's demo, tests and benchmarks.
See sandbox/README.md; in-process use: `from sandbox import Sandbox`."""
from sandbox.harness import Sandbox

__all__ = ["Sandbox"]
