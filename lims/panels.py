"""Sections that other apps add to the sample page (synthesis conditions, cells, measurements).

An app registers a provider in its AppConfig.ready(); a provider takes the sample and its
Lineage and returns a Panel, or None when it has nothing to show for that sample. Providers
must keep their query count independent of the lineage's size (fetch by id lists).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Panel:
    title: str
    template: str
    context: dict = field(default_factory=dict)
    order: int = 50


_providers: list[Callable] = []


def register(provider: Callable) -> Callable:
    if provider not in _providers:
        _providers.append(provider)
    return provider


def panels_for(sample, lineage) -> list[Panel]:
    panels = [p for p in (provider(sample, lineage) for provider in _providers) if p]
    return sorted(panels, key=lambda p: p.order)
