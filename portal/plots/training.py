"""Training curves of a model version (admin change page, models page)."""
from __future__ import annotations

from bokeh.embed import json_item
from bokeh.models import ColumnDataSource, HoverTool, LinearAxis, Range1d
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from portal.plots.legend import legend_above


def loss_curves_item(records: list[dict], kind: str) -> dict | None:
    """json_item of the loss curves: reconstruction (train, validation) and the discriminators'
    cross-entropy for a disentangler; loss and validation F1 per stage for BATMM. None if empty."""
    if not records:
        return None
    if kind == "bhb":
        return _bhb(records)
    epochs = [r["epoch"] for r in records]
    fig = figure(height=320, sizing_mode="stretch_width", x_axis_label="epoch", y_axis_label="reconstruction MSE",
                 y_axis_type="log", tools="pan,wheel_zoom,box_zoom,reset,save", title="Disentangler training")
    series = {"train reconstruction": "train_reconstruction", "validation reconstruction": "val_reconstruction"}
    for (label, key), colour in zip(series.items(), Category10_10):
        values = [r.get(key) for r in records]
        if any(v is not None for v in values):
            source = ColumnDataSource({"epoch": epochs, "value": values})
            fig.line("epoch", "value", source=source, legend_label=label, color=colour, line_width=2)
    ce = [r.get("train_disc_ce") for r in records]
    if any(v is not None for v in ce):
        finite = [v for v in ce if v is not None]
        fig.extra_y_ranges = {"ce": Range1d(0, max(finite) * 1.1 or 1)}
        fig.add_layout(LinearAxis(y_range_name="ce", axis_label="discriminator cross-entropy"), "right")
        fig.line(epochs, ce, y_range_name="ce", legend_label="discriminator CE", color=Category10_10[3],
                 line_dash="dashed", line_width=2)
    fig.add_tools(HoverTool(tooltips=[("epoch", "@epoch"), ("value", "@value{0.0000}")]))
    legend_above(fig)
    return json_item(fig)


def _bhb(records: list[dict]) -> dict:
    fig = figure(height=320, sizing_mode="stretch_width", x_axis_label="epoch (all stages)", y_axis_label="validation F1",
                 tools="pan,wheel_zoom,box_zoom,reset,save", title="BATMM transfer training", y_range=(0, 1.02))
    for (stage, colour) in zip(dict.fromkeys(r["stage"] for r in records), Category10_10):
        rows = [r for r in records if r["stage"] == stage]
        source = ColumnDataSource({"step": [r.get("step", r["epoch"]) for r in rows], "f1": [r["val_f1"] for r in rows],
                                   "loss": [r["loss"] for r in rows], "epoch": [r["epoch"] for r in rows]})
        fig.line("step", "f1", source=source, legend_label=stage, color=colour, line_width=2)
        fig.scatter("step", "f1", source=source, color=colour, size=6)
    fig.add_tools(HoverTool(tooltips=[("stage epoch", "@epoch"), ("val F1", "@f1{0.000}"), ("loss", "@loss{0.000}")]))
    legend_above(fig)
    return json_item(fig)
