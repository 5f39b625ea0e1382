"""MLPerf Inference scenarios driven by MLCommons LoadGen (--scenario); see harness.run_loadgen.

mlperf_loadgen is imported only when a test starts: the tool works without the [mlperf] extra.
"""
