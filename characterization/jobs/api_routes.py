"""This app's /api/v1/ routes (lims.api_urls adds them to v1)."""

routes: list = []
