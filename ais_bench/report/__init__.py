"""What a run reports, after the timed loop: renderers of summaries and per-iteration stamps."""
