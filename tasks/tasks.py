"""Task modules are listed here so that ``autodiscover_tasks(['tasks'])`` registers them all."""
from tasks.health import ping  # noqa: F401
