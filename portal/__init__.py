"""Doppel's Django project: settings, URLs, the Celery app, web pages and the REST API."""
from portal.celery import app as celery_app

__all__ = ["celery_app"]
