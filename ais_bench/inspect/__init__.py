"""Looking inside a run: profiler traces, tensor dumps, inputs saved on an engine error, the
working graph copies they run, and the exception_cb .bin converter."""
