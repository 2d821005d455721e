"""Measurement: small functions that each turn stored tables into one documented measure."""
