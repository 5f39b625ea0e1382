"""After a run: renderers of summaries and stamps, and reading finished runs back to compare them."""
