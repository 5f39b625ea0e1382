"""The one dispatcher: resolve a RunConfig once, then run it in this process or on several
devices through the launcher. The command line and the Python API both come here."""

from __future__ import annotations

import logging

from ais_bench import backends, host, launcher, zoo
from ais_bench.config import RunConfig
from ais_bench.report import MultiReport, Report
from ais_bench.run import run_device

log = logging.getLogger("ais_bench")


def run(cfg: RunConfig) -> Report | MultiReport:
    """Benchmark as `cfg` says: one device in this process, several in worker processes."""
    cfg = resolve(cfg)
    if len(cfg.devices) > 1:
        return launcher.launch(cfg, run_device)
    launcher.check_devices(cfg.backend, cfg.devices)
    return run_device(cfg)


def resolve(cfg: RunConfig) -> RunConfig:
    """The config with what a run needs decided: a built-in model built (once, before any
    worker races to build it) and its file named, and the threads fitted to the cores."""
    cfg = resolve_model(cfg)
    if len(cfg.devices) == 1:  # the launcher fits each worker's threads to its own cores
        cfg = fit_threads(cfg)
    return cfg


def resolve_model(cfg: RunConfig) -> RunConfig:
    """A built-in model built (once, before any worker races to build it) and its file named."""
    model = zoo.resolve(cfg.model)
    if model != cfg.model:
        log.info("built-in model %s: %s", cfg.model, model)
        cfg = cfg.replace(model=model, model_arg=cfg.model)
    return cfg


def fit_threads(cfg: RunConfig) -> RunConfig:
    """With concurrent requests on the CPU and no --intra_op_threads, give each session its
    share of the cores: ONNX Runtime's default (one thread per core in every session) would put
    N times as many busy threads as cores and measure the scheduler."""
    if (
        not cfg.concurrent
        or cfg.intra_op_threads
        or cfg.dymShape_range is not None  # a sweep runs the plain loop whatever --threads says
        or not backends.traits(cfg.backend).fits_threads
    ):
        return cfg
    cores = len(host.usable_cores())
    n = host.intra_threads(cores, cfg.threads)
    log.info(
        "%d compute stream(s) on %d core(s): %d intra-op thread(s) per session "
        "(set --intra_op_threads to choose)",
        cfg.threads,
        cores,
        n,
    )
    return cfg.replace(intra_op_threads=n)
