"""Headless Chromium (Debian's ``chromium`` driven by Playwright) against a live test server:
the star page mounts its Bokeh plots with no console errors, a twin search returns rows, and the
upload form shows its errors. Skipped, with the reason, where Chromium or Playwright is missing."""
import pytest

from tests.browser_fixtures import BROWSER_MARKS, browser, page  # noqa: F401 (fixtures)
from tests.conftest import build_active_disentangler

pytestmark = BROWSER_MARKS


@pytest.fixture
def catalog(transactional_db):
    return build_active_disentangler()


def test_star_page_renders_its_bokeh_plots(live_server, page, catalog):
    star = catalog[1][0].star
    page.goto(f"{live_server.url}/stars/{star.pk}/")
    page.wait_for_selector(f"#spectrum-{catalog[1][0].pk} canvas", state="attached", timeout=20_000)
    page.wait_for_selector("#generated canvas", state="attached", timeout=20_000)
    page.wait_for_selector("#peculiarity-plot canvas", state="attached", timeout=20_000)
    assert page.console_errors == []
    # Moving a slider asks the decoder for a new spectrum and flags extrapolation.
    page.eval_on_selector("#slider-teff", "(el) => { el.value = el.max; el.dispatchEvent(new Event('change')); }")
    page.wait_for_selector("#generate-warning:not([hidden])", timeout=20_000)
    assert "outside the training range" in page.inner_text("#generate-warning")
    assert page.console_errors == []


def test_twin_search_returns_rows(live_server, page, catalog):
    star = catalog[1][3].star
    page.goto(f"{live_server.url}/stars/{star.pk}/twins/")
    page.fill("#id_k", "5")
    page.click("button[type=submit]")
    page.wait_for_selector("#twins tbody tr")
    assert page.locator("#twins tbody tr").count() == 5
    page.wait_for_selector("#overlay canvas", state="attached", timeout=20_000)
    assert page.console_errors == []
    # One twin at a time: the menu swaps the drawn twin and its difference from the query.
    chosen = """() => { const doc = Bokeh.documents.find(d => d.get_model_by_name("twin-source"));
                        const data = doc.get_model_by_name("twin-source").data, every = doc.get_model_by_name("twins-source").data;
                        return {flux: Array.from(data.flux.slice(0, 5)), twin1: Array.from(every.twin1.slice(0, 5)),
                                difference: data.difference[2], expected: every.twin1[2] - every.query[2]}; }"""
    page.select_option("#overlay select", index=1)
    page.wait_for_function("""() => Bokeh.documents.find(d => d.get_model_by_name("twin-menu"))
                                      .get_model_by_name("twin-menu").value === "1" """)
    after = page.evaluate(chosen)
    assert after["flux"] == after["twin1"]
    assert after["difference"] == pytest.approx(after["expected"])
    assert page.console_errors == []


def test_upload_form_shows_errors(live_server, page, catalog, tmp_path):
    bad = tmp_path / "notes.fits"
    bad.write_text("not a FITS file")
    page.goto(f"{live_server.url}/twins/upload/")
    page.set_input_files("#id_file", str(bad))
    page.fill("#id_teff", "4500")
    page.fill("#id_logg", "2.0")
    page.click("button[type=submit]")
    page.wait_for_selector(".errorlist")
    assert "not a FITS file" in page.inner_text(".errorlist")
