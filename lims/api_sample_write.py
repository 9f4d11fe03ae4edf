"""Sample writes through the API (lims.api_urls adds `routes` to v1)."""

routes: list = []
