"""Bokeh figure builders. Each returns a ``json_item`` dict, mounted in the page with
``Bokeh.embed.embed_item`` (BokehJS is served from the installed bokeh package, same version)."""
from portal.plots.latent_map import latent_map_item  # noqa: F401
from portal.plots.spectrum import generated_item, peculiarity_item, spectrum_item, twins_overlay_item  # noqa: F401
from portal.plots.training import loss_curves_item  # noqa: F401
