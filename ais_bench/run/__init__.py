"""One device: open the engine, plan the inputs, run the scenario, save outputs, build the Report.

The config reaching here is resolved (a model file, one device, threads fitted); launcher.py
calls run_device in each worker process, app.py calls it in-process.

device.py holds the timed run, sweep.py the --dymShape_range sweep, facts.py the one place a
Report is built from Timings (and its summary saved).
"""

from ais_bench.run.device import (
    peek,
    prepare_inspection,
    run_device,
    run_scenario,
)
from ais_bench.run.facts import (
    RunFacts,
    batch_text,
    check_has_inputs,
    make_report,
    measured,
    planned_reports,
    profiler_trace,
    save_summary,
)
from ais_bench.run.sweep import (
    CSV_NAME,
)

__all__ = [
    'CSV_NAME',
    'RunFacts',
    'batch_text',
    'check_has_inputs',
    'make_report',
    'measured',
    'peek',
    'planned_reports',
    'prepare_inspection',
    'profiler_trace',
    'run_device',
    'run_scenario',
    'save_summary',
]
