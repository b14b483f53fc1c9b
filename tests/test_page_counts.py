"""Counts on the pages read as a person writes them: thousands separated, "about" when estimated."""
from portal.templatetags.doppel import count


def test_thousands_are_separated_and_anything_else_passes_through():
    assert [count(8298202), count(720), count(0), count("15002")] == ["8,298,202", "720", "0", "15,002"]
    assert count(None) is None and count("—") == "—"


def test_the_home_page_counts_the_catalog_with_separators(client, db):
    from django.core.cache import cache

    # the counts as the summary caches them, for a catalog too large to build in a test
    cache.set("catalog-summary-counts", {"n_stars": 15002, "surveys": [
        {"code": "apogee", "name": "APOGEE", "n_spectra": 12601}]}, 60)
    try:
        text = client.get("/").content.decode()
    finally:
        cache.delete("catalog-summary-counts")
    assert '<div class="number">15,002</div><div>stars</div>' in text
    assert '<div class="number">12,601</div><div>APOGEE spectra</div>' in text
