"""What a run measured: statistics (stats), the frozen Report and its kin (model), and their
renderings: printed lines (text) and the summary JSON (json). Also the tools for after a run:
renderers of summaries and stamps (html, trace), and reading saved runs back to compare them
(diff)."""

from ais_bench.report.model import MultiReport, RangeSummary, Report, ShapeRun, WorkerOutcome
from ais_bench.report.stats import Stats

__all__ = ["MultiReport", "RangeSummary", "Report", "ShapeRun", "Stats", "WorkerOutcome"]
