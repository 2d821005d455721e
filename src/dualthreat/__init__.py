"""dualthreat: the dual threat framework of Japanese and South Korean alliance thinking, made computable."""

__version__ = "0.1.0"
