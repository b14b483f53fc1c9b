"""Spectrum plots break their lines across detector gaps (APOGEE's three chips) instead of drawing
straight lines over them, on the server (portal/plots/spectrum.py) and in the slider's script."""
import base64
import gzip
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from ml.surveys import apogee_chip_slices, apogee_wavelength, sdss_wavelength
from portal.plots.spectrum import error_band, spectrum_item, twins_overlay_item, with_gaps
from tests.conftest import ROOT


def test_one_break_per_chip_gap_and_none_on_a_continuous_grid():
    wavelength = apogee_wavelength()
    flux = np.ones_like(wavelength)
    broken_wavelength, broken_flux = with_gaps(wavelength, flux)
    assert len(apogee_chip_slices()) == 3
    assert np.isnan(broken_flux).sum() == 2 and len(broken_flux) == len(flux) + 2
    for gap in np.flatnonzero(np.isnan(broken_flux)):  # each break sits between the chips it separates
        assert broken_wavelength[gap - 1] < broken_wavelength[gap] < broken_wavelength[gap + 1]
        assert broken_wavelength[gap + 1] - broken_wavelength[gap - 1] > 50.0  # Å: a real gap, not a pixel
    sdss = sdss_wavelength()
    assert len(with_gaps(sdss, np.ones_like(sdss))[1]) == len(sdss)
    assert with_gaps(wavelength, None)[1] is None


def _decode(value: dict) -> np.ndarray:
    data = value["array"]["data"] if isinstance(value["array"], dict) else value["array"]
    if not isinstance(data, str):
        return np.asarray(data, dtype=float)
    raw = base64.b64decode(data)
    return np.frombuffer(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw, dtype=value["dtype"])


def _nodes(item: dict):
    """Every dict and list in a Bokeh json_item, depth first (its maps are [name, value] pairs)."""
    stack = [json.loads(json.dumps(item))]
    while stack:
        node = stack.pop()
        if isinstance(node, (dict, list)):
            yield node
            stack.extend(node.values() if isinstance(node, dict) else node)


def _arrays(item: dict, key: str) -> list[np.ndarray]:
    """Every serialised array under ``key``."""
    return [_decode(node[1]) for node in _nodes(item) if isinstance(node, list) and len(node) == 2
            and node[0] == key and isinstance(node[1], dict) and node[1].get("type") == "ndarray"]


def test_the_star_page_figures_carry_the_breaks():
    wavelength = apogee_wavelength()
    flux = np.linspace(0.9, 1.0, len(wavelength))
    item = spectrum_item(wavelength=wavelength, flux=flux, error=0.01 * flux, unit="normalised", survey="apogee",
                         title="t", reconstruction=flux)
    observed = [a for a in _arrays(item, "flux") if len(a) == len(flux) + 2]
    assert observed and np.isnan(observed[0]).sum() == 2
    overlay = twins_overlay_item(wavelength=wavelength, query_flux=flux, query_label="query", twins=[("twin", flux)])
    assert [np.isnan(a).sum() for a in _arrays(overlay, "query") + _arrays(overlay, "twin0")] == [2, 2]


@pytest.mark.skipif(not shutil.which("node"), reason="needs node to run the portal's script")
def test_the_slider_script_breaks_at_the_same_pixels():
    script = (ROOT / "portal/static/portal/doppel.js").read_text()
    function = re.search(r"^function withGaps\(.*?^}", script, re.S | re.M).group(0)
    wavelength = apogee_wavelength()
    flux = np.linspace(0.9, 1.0, len(wavelength))
    program = (function + f"\nvar out = withGaps({json.dumps(wavelength.tolist())}, {json.dumps(flux.tolist())});"
               "\nconsole.log(JSON.stringify(out.flux.map(function (v) { return isNaN(v) ? null : v; })));")
    from_js = json.loads(subprocess.run(["node"], input=program, capture_output=True, text=True, check=True).stdout)
    expected = with_gaps(wavelength, flux)[1]
    assert [i for i, v in enumerate(from_js) if v is None] == np.flatnonzero(np.isnan(expected)).tolist()


def _glyphs(item: dict, kind: str) -> list[dict]:
    """The attributes of the glyph each renderer draws, for glyphs of this Bokeh type."""
    return [node["attributes"]["glyph"]["attributes"] for node in _nodes(item) if isinstance(node, dict)
            and node.get("name") == "GlyphRenderer" and node["attributes"]["glyph"].get("name") == kind]


def _column(item: dict, key: str) -> list[dict]:
    """A data source's column of arrays (one per polygon of a ``patches`` glyph), still encoded."""
    return [array for node in _nodes(item) if isinstance(node, list) and len(node) == 2 and node[0] == key
            and isinstance(node[1], list) for array in node[1]]


def test_the_error_band_is_one_area_per_chip_and_bridges_no_gap():
    wavelength = apogee_wavelength()
    flux = np.linspace(0.9, 1.0, len(wavelength))
    item = spectrum_item(wavelength=wavelength, flux=flux, error=0.01 * flux, unit="normalised", survey="apogee",
                         title="t")
    assert not _glyphs(item, "VArea")  # a varea draws straight across the NaN of a break
    (band,) = _glyphs(item, "Patches")
    assert band["xs"]["field"] == "xs"
    xs = [_decode(x) for x in _column(item, "xs")]
    assert len(xs) == 3 and all(np.isfinite(x).all() for x in xs)
    for x, chip in zip(xs, apogee_chip_slices()):  # each polygon spans its chip only: out along one edge, back along the other
        assert x.min() == wavelength[chip].min() and x.max() == wavelength[chip].max()


def test_a_missing_error_leaves_a_hole_in_the_band():
    xs, ys = error_band(np.arange(6.0), np.array([0, 0, np.nan, 0, 0, 0.0]), np.ones(6))
    assert [x.tolist() for x in xs] == [[0, 1, 1, 0], [3, 4, 5, 5, 4, 3]]
    assert [y.tolist() for y in ys] == [[0, 0, 1, 1], [0, 0, 0, 1, 1, 1]]
