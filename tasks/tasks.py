"""Task modules are listed here so that ``autodiscover_tasks(['tasks'])`` registers them all."""
from tasks.health import ping  # noqa: F401
from tasks.outputs import (  # noqa: F401
    build_latent_map, fill_embeddings, fill_embeddings_chunk, finish_outputs, score_bhb, score_bhb_chunk, score_peculiarity,
)
from tasks.pipeline import activate, activate_if_better, retrain  # noqa: F401
from tasks.tap import run_tap_job  # noqa: F401
from tasks.training import train_bhb, train_disentangler  # noqa: F401
