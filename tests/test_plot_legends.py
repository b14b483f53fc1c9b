"""Every portal figure keeps its legend in a strip above the plot, off the data."""
import numpy as np

from ml.surveys import apogee_wavelength
from portal.plots.spectrum import generated_item, spectrum_item, twins_overlay_item
from portal.plots.training import loss_curves_item


def _legend_places(item: dict) -> list[str]:
    """The side each Legend of a Bokeh json_item sits on ("above", "center", …)."""
    places = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and node.get("name") == "Figure":
                attributes = node.get("attributes", {})
                for side in ("above", "below", "left", "right", "center"):
                    for model in attributes.get(side, []):
                        if isinstance(model, dict) and model.get("name") == "Legend":
                            places.append(side)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(item)
    return places


def test_legends_sit_above_the_data():
    wavelength = apogee_wavelength()
    flux = np.ones_like(wavelength)
    items = [spectrum_item(wavelength=wavelength, flux=flux, error=0.01 * flux, unit="normalised", survey="apogee",
                           title="t", reconstruction=flux),
             generated_item(wavelength=wavelength, own_flux=flux, title="t"),
             twins_overlay_item(wavelength=wavelength, query_flux=flux, query_label="query", twins=[("twin", flux)]),
             loss_curves_item([{"epoch": 1, "train_reconstruction": 1.0, "val_reconstruction": 1.1, "train_disc_ce": 0.6},
                               {"epoch": 2, "train_reconstruction": 0.5, "val_reconstruction": 0.6, "train_disc_ce": 0.7}],
                              "disentangler")]
    for item in items:
        assert _legend_places(item) == ["above"]
