"""Thin Celery tasks: each calls catalog services and ml, and records progress."""
