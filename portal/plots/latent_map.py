"""The t-SNE maps of a version: the disentangled latents beside the raw spectra (seed Figs. 5, 8,
10), coloured by a parameter or by chemical group; hover shows the star, a tap opens its page."""
from __future__ import annotations

import numpy as np
from bokeh.embed import json_item
from bokeh.layouts import gridplot
from bokeh.models import CategoricalColorMapper, ColorBar, ColumnDataSource, HoverTool, LinearColorMapper, OpenURL, TapTool
from bokeh.palettes import Category20_20, Viridis256
from bokeh.plotting import figure


def latent_map_item(*, latent_xy, raw_xy, star_ids, designations, values, colour_by: str, unit: str = "") -> dict:
    latent_xy, raw_xy = np.asarray(latent_xy), np.asarray(raw_xy)
    values = np.asarray([np.nan if v is None else v for v in values], dtype=float)
    finite = values[np.isfinite(values)]
    source = ColumnDataSource({"lx": latent_xy[:, 0], "ly": latent_xy[:, 1], "rx": raw_xy[:, 0], "ry": raw_xy[:, 1],
                               "star_id": list(star_ids), "designation": list(designations), "value": values})
    if colour_by == "group":  # categories, not a scale: twenty colours in turn, grey for no group
        source.data["value"] = ["" if not np.isfinite(v) else str(int(v)) for v in values]
        groups = sorted({v for v in source.data["value"] if v}, key=int)
        mapper = CategoricalColorMapper(factors=groups or ["0"], nan_color="#d0d5dd",
                                        palette=[Category20_20[k % 20] for k in range(max(len(groups), 1))])
    else:
        mapper = LinearColorMapper(palette=Viridis256, low=float(finite.min()) if len(finite) else 0,
                                   high=float(finite.max()) if len(finite) else 1, nan_color="#d0d5dd")
    figures = []
    for title, x, y in (("z: disentangled latent space (t-SNE)", "lx", "ly"), ("X: raw spectra (PCA-50 → t-SNE)", "rx", "ry")):
        fig = figure(height=460, sizing_mode="stretch_width", title=title, tools="pan,wheel_zoom,box_select,lasso_select,reset,save",
                     active_scroll="wheel_zoom")
        fig.scatter(x, y, source=source, size=5, alpha=0.85, color={"field": "value", "transform": mapper})
        fig.add_tools(HoverTool(tooltips=[("star", "@designation"), (colour_by, "@value" if colour_by == "group" else "@value{0.00}")]),
                      TapTool(callback=OpenURL(url="/stars/@star_id/")))
        fig.xaxis.visible = fig.yaxis.visible = False
        figures.append(fig)
    if colour_by != "group":  # twenty colours over a hundred groups make no key worth reading
        figures[1].add_layout(ColorBar(color_mapper=mapper, title=f"{colour_by} {unit}".strip()), "right")
    return json_item(gridplot([figures], sizing_mode="stretch_width", merge_tools=False))
