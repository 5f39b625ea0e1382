"""Shared test helpers: run the CLI as a user does, and build models once per session."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@dataclass
class CliResult:
    rc: int
    out: str
    err: str

    @property
    def text(self) -> str:
        return self.out + self.err

    def line(self, needle: str) -> str:
        """The first output line containing `needle` (fails the test when there is none)."""
        for ln in self.text.splitlines():
            if needle in ln:
                return ln
        raise AssertionError(f"no line with {needle!r} in output:\n{self.text}")


@pytest.fixture(scope="session")
def zoo_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("zoo_cache")


@pytest.fixture(scope="session")
def cli_env(zoo_cache: Path) -> dict[str, str]:
    # PYTHONPATH pins the package under test to this checkout, whatever cwd the command has.
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH", "")) if p)
    # The machine peaks (the roofline line) are measured once per session into zoo_cache, for
    # a short time each: the tests check the mechanism, not the figure.
    return {
        **os.environ, "PYTHONPATH": path, "AIS_BENCH_CACHE": str(zoo_cache),
        "AIS_BENCH_PEAK_SECONDS": "0.05",
    }


@pytest.fixture(scope="session")
def cli(cli_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory):
    """Run `python -m ais_bench ARGS...` and return its exit code and output.

    Without `cwd` the command runs in a fresh temporary folder, so files a run drops into its
    working directory (exception_cb_*, profiler traces) never land in the checkout.
    """

    def run(*args: str, cwd: Path | None = None, timeout: float = 300, **env: str) -> CliResult:
        if cwd is None:
            cwd = tmp_path_factory.mktemp("cli_cwd")
        p = subprocess.run(
            [sys.executable, "-m", "ais_bench", *map(str, args)],
            cwd=cwd,
            env={**cli_env, **env},
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        return CliResult(p.returncode, p.stdout, p.stderr)

    return run


@pytest.fixture(scope="session")
def zoo_path(zoo_cache: Path):
    """zoo_path("resnet") -> Path of the cached built-in model (built once per session)."""
    from ais_bench import zoo

    def get(name: str) -> Path:
        return zoo.path(name, cache_dir=zoo_cache)

    return get


@pytest.fixture(autouse=True)
def _restore_ais_bench_logger():
    """In-process CLI calls configure the 'ais_bench' logger; undo it so caplog keeps working."""
    import logging

    logger = logging.getLogger("ais_bench")
    saved = (list(logger.handlers), logger.level, logger.propagate)
    yield
    logger.handlers[:], logger.level, logger.propagate = saved


def _checkout_status() -> str | None:
    """`git status --porcelain` of the checkout, or None when it is not a git checkout."""
    try:
        p = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=all"],
            cwd=REPO, capture_output=True, text=True, timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return p.stdout if p.returncode == 0 else None


@pytest.fixture(scope="session", autouse=True)
def _checkout_untouched():
    """No test may write into the checkout: the suite fails when `git status` changed."""
    before = _checkout_status()
    yield
    after = _checkout_status()
    if before is None or after is None:
        return
    new = sorted(set(after.splitlines()) - set(before.splitlines()))
    assert not new, "the test suite changed the checkout:\n" + "\n".join(new)
