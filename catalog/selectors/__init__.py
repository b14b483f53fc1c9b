"""Reads. Views, the API and tasks query the catalog through these functions only."""
from catalog.selectors.datasets import (  # noqa: F401
    IdRanges, bhb_dataset_size, bhb_eligible_count, bhb_inputs, bhb_star_ranges, embeddable_count, embeddable_ranges,
    embeddings_missing, unembedded_ranges,
    embeddable_spectra, spectra_flux,
)
from catalog.selectors.models import artifact_bytes, active_version, latent_sample, model_version, index_is_valid, loss_curves, model_versions, version_progress  # noqa: F401
from catalog.selectors.peculiar import (  # noqa: F401
    chemical_groups, group_members, injected_peculiar, peculiar_stars, star_peculiarity, version_latents,
)
from catalog.selectors.counts import ResultCount, result_count  # noqa: F401
from catalog.selectors.summary import catalog_summary  # noqa: F401
from catalog.selectors.twins import (  # noqa: F401
    MAX_K, Twin, TwinFilters, TwinResult, TwinSearchError, nearest_neighbour_distances, range_offsets, star_latent,
    twins_for_latent, twins_for_star, twins_for_star_id,
)
from catalog.selectors.stars import (  # noqa: F401
    LABEL_FIELDS, SORTABLE, StarQuery, StarQueryError, balmer_lines_unmeasured, bhb_candidates, spectra_by_id, spectrum_arrays,
    balmer_measurements, first_image, map_points, star_detail, star_images, star_labels, star_spectra, stars_after, stars_search, sort_key,
    survey_wavelength,
    with_parameters, xue_agreement,
)
