"""Writes. One module per domain; import from here (``from catalog import services``)."""
from catalog.services.artifacts import ConversionReport, artifact_release, artifact_store, artifacts_convert  # noqa: F401
from catalog.services.balmer import balmer_lines_fill  # noqa: F401
from catalog.services.datasets import BHBDataset, DisentanglerDataset, bhb_dataset, disentangler_dataset  # noqa: F401
from catalog.services.fill import (  # noqa: F401
    FillIncomplete, bhb_scores_fill_range, embeddings_fill_range, latent_map_build, outputs_complete,
)
from catalog.services.ingest import (  # noqa: F401
    FileOutcome, IngestReport, LabelImportReport, expand_paths, ingest_file, ingest_paths,
    labels_import, star_find_or_create, survey_ensure,
)
from catalog.services.grids import grid_load  # noqa: F401
from catalog.services.outputs import (  # noqa: F401
    bhb_scores_write, embedding_index_build, embedding_index_drop, embeddings_write,
)
from catalog.services.peculiar import TooManyLatents, groups_fill, peculiarity_fill  # noqa: F401
from catalog.services.retention import PruneReport, snapshots_prune, versions_prune  # noqa: F401
from catalog.services.registry import (  # noqa: F401
    Claim, RegistryError, activate, activation_decision, is_cancelled, latent_map_store, model_version_create,
    rollback, run_attach_task, run_fill_progress, run_note, run_phase, run_record_epoch, training_claim, training_config_check, training_finish,
    training_release, version_cancel, version_complete_fill, version_fail,
)
