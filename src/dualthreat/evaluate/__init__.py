"""Evaluation: the paper's hypotheses tested against the record, and decisions forecast out of time."""
