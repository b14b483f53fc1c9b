"""Doppel's Python client: ``from doppel.client import Doppel``."""
