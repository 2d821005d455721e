"""``python -m dualthreat.cli``."""

from dualthreat.cli import app

app(prog_name="dualthreat")
