"""Reading finished runs back: comparing two summaries."""
