"""The guide's Python API: `from ais_bench.infer.interface import InferSession`."""
