"""After a run: renderers of summaries and stamps, and reading saved runs back to compare them."""
