import sys

try:
    from ais_bench.cli import main
except KeyboardInterrupt:
    # Ctrl-C while the heavy modules load: nothing has started, so no traceback, just 130.
    sys.exit(130)

sys.exit(main())
