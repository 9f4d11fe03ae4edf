"""Errors raised by the chemistry engine.

Every error names the input field it refers to, so the web and API layers can render
``{"errors": {err.field: [err.message]}}`` without parsing messages. Field names follow the
request shape: top-level keys as they are (``"target_formula"``, ``"coating_wt_percent"``),
list items with a 0-based index (``"precursors[1].formula"``) and mapping entries with a dot
(``"excess_percent.Li"``).
"""

from __future__ import annotations


class ChemistryError(ValueError):
    """A chemistry input that cannot give a trustworthy number.

    ``field`` is the input field at fault; ``message`` says what is wrong in words a chemist
    understands, and names the offending text or value.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"{type(self).__name__}(field={self.field!r}, message={self.message!r})"

    def with_field(self, field: str) -> ChemistryError:
        """Return the same error reported against another field (e.g. when reused by coating)."""
        return type(self)(field, self.message)

    def as_dict(self) -> dict[str, list[str]]:
        """The API error body entry: ``{field: [message]}``."""
        return {self.field: [self.message]}


class FormulaError(ChemistryError):
    """A chemical formula that cannot be parsed, or that Kiln refuses to guess about."""


class InputError(ChemistryError):
    """A number or option outside its allowed range (mass, purity, density, wt%, basis...)."""


class BalanceError(ChemistryError):
    """The precursors cannot deliver the target's elements as asked."""
