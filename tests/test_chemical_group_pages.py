"""Chemical groups of a version (HDBSCAN of its latents): stored by the chain's task numbered by
size, listed by the API (with member exports) and the pages, with what each group shares, in TAP."""
import csv
import io

import numpy as np
import pytest

from catalog import services
from catalog.models import Embedding, GroupMember
from catalog.selectors.tap import run_adql

pytestmark = pytest.mark.django_db


@pytest.fixture
def grouped(active_disentangler):
    """The toy version's latents moved into three planted groups of 60, 40 and 28 stars."""
    version, spectra = active_disentangler
    rng = np.random.default_rng(4)
    centres = rng.normal(0, 8, (3, 25))
    sizes = [60, 40, len(spectra) - 100]
    which = np.repeat(np.arange(3), sizes)
    for embedding, group in zip(Embedding.objects.filter(model_version=version).order_by("spectrum_id"), which):
        embedding.vector = (centres[group] + rng.normal(0, 0.2, 25)).astype(np.float32)
        embedding.save()
    assert services.groups_fill(version=version) == 3
    return version, spectra, sizes


def test_groups_are_numbered_by_size(grouped):
    version, spectra, sizes = grouped
    counts = [GroupMember.objects.filter(model_version=version, group=g).count() for g in range(3)]
    assert counts == sorted(sizes, reverse=True) and sum(counts) == len(spectra)


def test_the_api_lists_groups_and_members(client, grouped):
    version, spectra, sizes = grouped
    groups = client.get("/api/chemical-groups/").json()
    assert [g["size"] for g in groups] == [60, 40, 28] and groups[0]["teff_min"] <= groups[0]["teff_max"]
    members = client.get("/api/chemical-groups/1/members/", {"limit": 5}).json()
    assert members["count"] == 40 and len(members["results"]) == 5 and members["results"][0]["group"] == 1
    exported = list(csv.DictReader(io.StringIO(client.get("/api/chemical-groups/2/members/", {"format": "csv"}).getvalue().decode())))
    assert len(exported) == 28
    missing = client.get("/api/chemical-groups/9/members/")
    assert missing.status_code == 404 and "there is no group 9" in missing.json()["error"]["detail"]


def test_the_pages_show_the_groups_and_what_they_share(client, grouped):
    page = client.get("/groups/").content.decode()
    assert 'href="/groups/0/"' in page and "3 groups under disentangler" in page
    group = client.get("/groups/0/").content.decode()
    assert 'id="group-plot"' in group and "group-plot-item" in group and "Strongest differences" in group
    assert group.count('<a href="/stars/') == 25  # one page of members
    assert client.get("/groups/7/").status_code == 404


def test_tap_serves_the_groups(grouped):
    result = run_adql("SELECT group_id, COUNT(*) AS n FROM doppel.chemical_groups GROUP BY group_id ORDER BY group_id",
                      maxrec=10, timeout_s=10)
    assert [(row["group_id"], row["n"]) for row in result.rows] == [(0, 60), (1, 40), (2, 28)]


def test_the_chain_task_scores_and_groups(active_disentangler):
    from tasks.outputs import score_peculiarity

    version, spectra = active_disentangler
    result = score_peculiarity.apply(args=[version.pk]).get()
    assert result["scored"] == len(spectra) and isinstance(result["groups"], int)
    assert GroupMember.objects.filter(model_version=version).values("group").distinct().count() == result["groups"]


def test_the_latent_map_colours_by_group(client, grouped):
    version, spectra, sizes = grouped
    page = client.get("/latent-map/", {"colour": "group"}).content.decode()
    assert "each chemical group" in page and "CategoricalColorMapper" in page
    from catalog.selectors import map_points

    ids = version.latent_map["spectrum_ids"]
    values = map_points(ids, "group")["values"]
    members = dict(GroupMember.objects.filter(model_version=version).values_list("spectrum_id", "group"))
    assert values == [members.get(i) for i in ids] and any(v is not None for v in values)
