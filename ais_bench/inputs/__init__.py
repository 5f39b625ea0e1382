"""Model inputs: files found and checked (files), batches planned (plan), read ahead (reader)."""
