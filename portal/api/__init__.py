"""The REST API (DRF) under /api/: one router collects every viewset (see urls.py)."""
