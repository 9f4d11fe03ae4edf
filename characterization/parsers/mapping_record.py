"""What every saved column mapping shares (cycling, impedance, potential steps, diffraction):
typed fields checked with messages that name the field, and the stored JSON round trip.

A mapping is a frozen dataclass deriving from StoredMapping; its __post_init__ calls the checks
it needs, and `error` is the exception its readers catch (MappingError unless it says)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields


class MappingError(ValueError):
    """The mapping itself is incomplete or inconsistent (not a problem of a file)."""


class StoredMapping:
    error = MappingError  # a plain class attribute, not a dataclass field
    NOT_TEXT: frozenset[str] = frozenset({"header_row"})  # fields that are not text

    def _check_text(self) -> None:
        for f in fields(self):
            if f.name not in self.NOT_TEXT and not isinstance(getattr(self, f.name), str):
                raise self.error(f"{f.name} must be text")

    def _check_choices(self, choices: Iterable[tuple[str, Sequence[str]]]) -> None:
        for label, allowed in choices:
            value = getattr(self, label)
            if value not in allowed:
                raise self.error(f"{label} must be one of {', '.join(allowed)}, not {value!r}")

    def _check_required(self, labels: Iterable[str]) -> None:
        for label in labels:
            if not str(getattr(self, label)).strip():
                raise self.error(f"{label} is required")

    def _check_distinct_columns(self) -> None:
        named = [c.strip().lower() for c in self.columns().values()]
        if len(set(named)) != len(named):
            raise self.error("each quantity needs its own column")

    def _check_header_row(self, most: int | None = None) -> None:
        row = self.header_row
        if isinstance(row, bool) or not isinstance(row, int):
            raise self.error("header_row must be a whole number")
        if most is None and row < 0:
            raise self.error("header_row must be 0 or more")
        if most is not None and not 0 <= row <= most:
            raise self.error(f"header_row must be between 0 and {most}")

    def columns(self) -> dict[str, str]:  # each mapping says its own
        raise NotImplementedError

    @classmethod
    def from_dict(cls, data: dict, *, name: str):
        """The mapping from its stored JSON (unknown keys refused, `name` given apart); an
        empty (null) text field is ''."""
        if not isinstance(data, dict):
            raise cls.error("the mapping must be a JSON object")
        unknown = sorted(set(data) - ({f.name for f in fields(cls)} - {"name"}))
        if unknown:
            raise cls.error(f"unknown mapping keys: {', '.join(unknown)}")
        values = {k: ("" if v is None and k not in cls.NOT_TEXT else v) for k, v in data.items()}
        return cls(name=name, **values)

    def to_dict(self) -> dict:
        """The stored JSON (without the name)."""
        return {k: v for k, v in asdict(self).items() if k != "name"}
