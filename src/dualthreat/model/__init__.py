"""The framework: threat components, mediator, posture (see :class:`DualThreatModel`)."""

from dualthreat.model.dualthreat import DualThreatModel

__all__ = ["DualThreatModel"]
