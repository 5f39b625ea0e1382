"""Why a run wobbles: a sampler thread around the timed run, and the causes it points at."""

from ais_bench.noise.diagnose import cause_text, causes, series, summarise
from ais_bench.noise.sampler import Sample, Sampler, read_sample

__all__ = ["Sample", "Sampler", "cause_text", "causes", "read_sample", "series", "summarise"]
