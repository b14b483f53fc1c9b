"""generate_grid --peculiar: a few stars get one element raised (the rest of the grid unchanged),
lose their twins (group none) and are named …P; the peculiar-stars page says how many of them it
ranks near the top."""
import numpy as np
import pytest

from ml.synth.gridbuilder import GridSpec, build_grid


class _Flat:
    """A spectrum model that returns the [X/H] it is given (so the grid's chemistry is visible)."""

    def __call__(self, teff, logg, x_h, snr=None, rng=None, return_error=False):
        flux = np.asarray(x_h, np.float32)
        return (flux, None) if return_error else flux


def test_peculiar_stars_get_one_element_raised_and_no_twins():
    spec = dict(n_profiles=3, teff=(4000.0, 4400.0, 200.0), logg=(1.0, 2.0, 0.5), seed=3)
    plain = build_grid(GridSpec(**spec), _Flat())
    odd = build_grid(GridSpec(**spec, peculiar=4), _Flat())
    marked = np.array([name.endswith("P") for name in odd.designation])
    assert marked.sum() == 4 and (odd.group[marked] == -1).all() and (odd.group[~marked] >= 0).all()
    assert [name.rstrip("P") for name in odd.designation] == plain.designation
    np.testing.assert_array_equal(odd.flux[~marked], plain.flux[~marked])  # everyone else unchanged
    raised = {name: odd.labels[name][marked] - plain.labels[name][marked] for name in ("Mn_Fe", "V_Fe", "Co_Fe", "Ce_Fe")}
    per_star = np.array([[raised[name][k] for name in raised] for k in range(4)])
    assert ((per_star > 0).sum(axis=1) == 1).all() and ((per_star.max(axis=1) >= 0.3) & (per_star.max(axis=1) <= 1.0)).all()


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="peculiar must be between 0 and the 4 stars"):
        GridSpec(n_profiles=1, teff=(4000.0, 4200.0, 200.0), logg=(1.0, 1.5, 0.5), peculiar=5)
    with pytest.raises(ValueError, match=r"peculiar elements \['Xx'\] are not modelled"):
        GridSpec(peculiar_elements=("Xx",))


@pytest.mark.django_db
def test_the_page_says_how_many_injected_stars_it_finds(client, active_disentangler):
    from catalog.models import Peculiarity, Star

    version, spectra = active_disentangler
    top = Peculiarity.objects.filter(model_version=version).order_by("-score").first()
    Star.objects.filter(pk=top.star_id).update(designation="SYNA-000-0001-0002P")
    Star.objects.filter(pk=spectra[-1].star_id).update(designation="SYNA-000-0007-0003P")
    page = client.get("/peculiar/").content.decode()
    assert 'id="injected"' in page and "holds 2 generated stars made peculiar" in page
    best = Peculiarity.objects.filter(model_version=version).order_by("-score", "spectrum_id").select_related("star")[:50]
    found = sum(row.star.designation.endswith("P") for row in best)
    assert found >= 1  # the top one is among them
    assert f"{found} of them are among the 50 most peculiar" in page
