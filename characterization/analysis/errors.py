"""Errors raised by the pure analysis code.

Every error names the input it refers to (``field``), so the web, API and command layers can
render ``{"errors": {err.field: [err.message]}}`` without parsing messages. Field names are the
keyword arguments of the analysis functions (``"active_mass_mg"``, ``"z_oxygen"``); list items
carry a 0-based index (``"c_rates[2]"``); the cycling table itself is ``"df"``.
"""

from __future__ import annotations


class AnalysisError(ValueError):
    """An analysis input that cannot give a trustworthy number.

    ``field`` is the input at fault; ``message`` says what is wrong in words a chemist
    understands (e.g. field="active_mass_mg", "active mass must be > 0 mg").
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(field={self.field!r}, message={self.message!r})"

    def __reduce__(self):
        # Celery serialises task errors; the default reduce would call cls(message) only.
        return (type(self), (self.field, self.message))

    def as_dict(self) -> dict[str, list[str]]:
        """The API error body entry: ``{field: [message]}``."""
        return {self.field: [self.message]}


class TooFewCyclesError(AnalysisError):
    """The file is fine but holds too few complete cycles for this analysis (e.g. a fade)."""
