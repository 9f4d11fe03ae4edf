"""Template context shared by every page."""

NAV_ITEMS = (
    ("Samples", "samples"),
    ("Synthesis", "synthesis"),
    ("Cells", "cells"),
    ("Measurements", "measurements"),
    ("Jobs", "jobs"),
    ("Study", "study"),
)


def navigation(request) -> dict:
    section = request.resolver_match.namespace if request.resolver_match else ""
    return {"nav_items": NAV_ITEMS, "nav_section": section}
