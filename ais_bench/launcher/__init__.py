"""Several devices: a given run function in one worker process per --device id, started
together, outcomes gathered.

Each worker is a "spawn" process (a fresh interpreter: nothing of the parent's engine state is
forked into it). It calls the run function (app.py hands over run.run_device) with a copy of the
RunConfig holding its device id and its slice of the work; the function calls `ready` once the
model is loaded, which waits at a barrier until every worker has loaded its. The worker sends its
Report (a picklable dataclass) or its error back through a pipe. A worker that fails does not
stop the others.

CPU (and OpenVINO, which runs on host cores): the ids name workers, not hardware. The cores this
process may use are cut into one contiguous, disjoint set per worker, in the order the ids are
given; each worker pins itself to its set (os.sched_setaffinity, inherited by ONNX Runtime's
threads) and, unless --intra_op_threads is given, runs one intra-op thread per core of its set
(divided again between its --threads streams). With more workers than cores each worker gets
one core, shared round-robin, and a warning says so.

GPU backends (cuda, tensorrt): the ids are CUDA device ids, checked against the GPUs present.

With --input, the files are split between the workers in contiguous parts, each file
exactly once (split_files / divide_inputs); --divide_input 0 gives every worker every file.

shares.py holds the pure parts (cores, files, device checks), workers.py the processes.
"""

from ais_bench.launcher.shares import (
    check_devices,
    core_sets,
    divide_inputs,
    split_files,
)
from ais_bench.launcher.workers import (
    BARRIER_TIMEOUT_S,
    POLL_S,
    Plan,
    RunDevice,
    WorkerSpec,
    gather,
    input_files,
    launch,
    plan,
    run_worker,
    worker_specs,
)

__all__ = [
    'BARRIER_TIMEOUT_S',
    'POLL_S',
    'Plan',
    'RunDevice',
    'WorkerSpec',
    'check_devices',
    'core_sets',
    'divide_inputs',
    'gather',
    'input_files',
    'launch',
    'plan',
    'run_worker',
    'split_files',
    'worker_specs',
]
