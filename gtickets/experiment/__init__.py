"""Experiments: phases of batched runs (resumable), the ticket pipeline, reports."""
