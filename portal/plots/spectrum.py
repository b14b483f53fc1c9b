"""Spectrum figures: one star's spectrum with its error band, line markers and the model's
reconstruction; the query beside one chosen twin with their difference; the "at another
Teff/logg" panel."""
from __future__ import annotations

import numpy as np
from bokeh.embed import json_item
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, CustomJS, HoverTool, Label, Select, Span
from bokeh.palettes import Category10_10
from bokeh.plotting import figure

from ml.surveys import air_to_vacuum
from portal.plots.legend import legend_above

# Main lines per survey, vacuum Å like the spectra (SDSS's published air values converted).
SDSS_LINES_AIR = {"Hα": 6562.80, "Hβ": 4861.33, "Hγ": 4340.46, "Hδ": 4101.74, "Ca II K": 3933.66, "Ca II H": 3968.47,
                  "Mg b": 5175.0, "Na D": 5891.6}
LINES = {
    "apogee": {"Brγ 11-4": 16811.1, "Br 13-4": 16411.7, "Br 15-4": 16113.7, "Mg I": 15765.8, "Al I": 16723.5,
               "Fe I": 15207.5, "K I": 15163.1, "Si I": 15964.4, "Mn I": 15221.0, "Ca I": 16155.2},
    "gaia_rvs": {"Ca II 8498": 8500.4, "Ca II 8542": 8544.4, "Ca II 8662": 8664.5, "Fe I": 8691.0, "Mg I": 8809.2},
    "sdss": {name: round(float(air_to_vacuum(value)), 2) for name, value in SDSS_LINES_AIR.items()},
}
TOOLS = "pan,xwheel_zoom,box_zoom,reset,save"
GAP_STEPS = 3.0  # a step in ln λ this many times the median one is a gap (APOGEE's chip gaps)


def with_gaps(wavelength, *arrays):
    """(wavelength, *arrays) with one NaN point inserted wherever the wavelength jumps by more
    than ``GAP_STEPS`` median steps in ln λ, so that lines and bands break across detector gaps
    instead of bridging them. Arrays of shape (n,) (None passes through); returns float arrays of
    shape (n + gaps,). The portal's slider script (doppel.js) applies the same rule."""
    wavelength = np.asarray(wavelength, np.float64)
    if len(wavelength) < 3:
        return [wavelength, *[None if a is None else np.asarray(a, np.float64) for a in arrays]]
    step = np.diff(np.log(wavelength))
    after = np.flatnonzero(step > GAP_STEPS * np.median(step)) + 1  # indices that start a new segment
    gap_wavelength = 0.5 * (wavelength[after - 1] + wavelength[after])
    out = [np.insert(wavelength, after, gap_wavelength)]
    out += [None if a is None else np.insert(np.asarray(a, np.float64), after, np.nan) for a in arrays]
    return out


def error_band(wavelength, lower, upper) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The ±1σ band as one polygon per stretch without a break (the NaN points of
    :func:`with_gaps`, or a missing error): (xs, ys), lists of arrays of shape (2 m,) for a stretch
    of m pixels. A filled area drawn through a NaN bridges the break (Bokeh's ``varea`` does)."""
    wavelength, lower, upper = (np.asarray(a, np.float64) for a in (wavelength, lower, upper))
    valid = np.isfinite(wavelength) & np.isfinite(lower) & np.isfinite(upper)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], valid.astype(np.int8), [0]])))
    xs, ys = [], []
    for start, stop in zip(edges[::2], edges[1::2]):
        xs.append(np.concatenate([wavelength[start:stop], wavelength[start:stop][::-1]]))
        ys.append(np.concatenate([lower[start:stop], upper[start:stop][::-1]]))
    return xs, ys


def _decimate(*arrays, limit: int = 8000):
    """Every n-th point so a browser draws at most ``limit`` (spectra here are ≤ 7214 px: no-op)."""
    step = max(1, len(arrays[0]) // limit)
    return [None if a is None else np.asarray(a)[::step] for a in arrays]


def spectrum_item(*, wavelength, flux, error, unit: str, survey: str, title: str,
                  reconstruction=None, name: str = "spectrum") -> dict:
    wavelength, flux, error, reconstruction = with_gaps(*_decimate(wavelength, flux, error, reconstruction))
    data = {"wavelength": wavelength, "flux": flux}
    if error is not None:
        data["error"] = error  # the tooltip's σ
    source = ColumnDataSource(data, name=f"{name}-source")
    fig = figure(height=360, sizing_mode="stretch_width", tools=TOOLS, active_scroll="xwheel_zoom", title=title,
                 x_axis_label="wavelength (Å)", y_axis_label=f"flux ({unit})", name=name)
    items = []
    if error is not None:
        xs, ys = error_band(wavelength, flux - error, flux + error)
        items.append(("±1σ", [fig.patches(xs, ys, fill_color="#98a2b3", fill_alpha=0.4, line_color=None)]))
    line = fig.line("wavelength", "flux", source=source, color="#1d2330", line_width=1)
    items.insert(0, ("observed", [line]))
    if reconstruction is not None:
        items.append(("model reconstruction",
                      [fig.line(wavelength, reconstruction, color=Category10_10[3], line_width=1.2, alpha=0.85)]))
    legend_above(fig, items)
    for k, (label, position) in enumerate(LINES.get(survey, {}).items()):
        if wavelength[0] <= position <= wavelength[-1]:
            fig.add_layout(Span(location=position, dimension="height", line_color="#2f5fd0", line_alpha=0.35,
                                line_dash="dotted"))
            fig.add_layout(Label(x=position, y=8 + 14 * (k % 2), y_units="screen", text=label, text_font_size="9pt",
                                 text_color="#2f5fd0"))
    tooltips = [("λ", "@wavelength{0.00} Å"), ("flux", "@flux{0.0000}")] + ([("σ", "@error{0.0000}")] if error is not None else [])
    fig.add_tools(HoverTool(renderers=[line], tooltips=tooltips, mode="vline"))
    return json_item(fig)


def generated_item(*, wavelength, own_flux, title: str) -> dict:
    """The panel the sliders update: the star's own spectrum and the generated one (source
    named ``generated-source``, filled by JavaScript from /api/stars/{id}/generate)."""
    fig = figure(height=300, sizing_mode="stretch_width", tools=TOOLS, active_scroll="xwheel_zoom", title=title,
                 x_axis_label="wavelength (Å)", y_axis_label="normalised flux", name="generated")
    wavelength, own_flux = with_gaps(wavelength, own_flux)
    own = fig.line(wavelength, own_flux, color="#98a2b3")
    generated = ColumnDataSource({"wavelength": wavelength, "flux": own_flux}, name="generated-source")
    line = fig.line("wavelength", "flux", source=generated, color=Category10_10[0], line_width=1.3)
    legend_above(fig, [("this star (reconstruction)", [own]), ("at the chosen Teff / logg", [line])])
    fig.add_tools(HoverTool(renderers=[line], tooltips=[("λ", "@wavelength{0.00} Å"), ("flux", "@flux{0.0000}")], mode="vline"))
    return json_item(fig)


def twins_overlay_item(*, wavelength, query_flux, query_label: str, twins: list[tuple[str, np.ndarray]]) -> dict:
    """The query spectrum and one twin at a time (a menu picks which; the closest first), with the
    difference twin − query in a panel below on the same wavelength axis. All twins' fluxes travel
    in one source (``twins-source``: columns ``wavelength``, ``query``, ``twin0``…); the menu's
    script copies the chosen one into ``twin-source`` (``flux`` and ``difference``)."""
    columns = with_gaps(wavelength, query_flux, *[flux for _, flux in twins])
    wavelength, query = columns[0], columns[1]
    every = ColumnDataSource({"wavelength": wavelength, "query": query,
                              **{f"twin{k}": flux for k, flux in enumerate(columns[2:])}}, name="twins-source")
    first = columns[2] if twins else np.full_like(query, np.nan)
    chosen = ColumnDataSource({"wavelength": wavelength, "flux": first, "difference": first - query}, name="twin-source")
    fig = figure(height=330, sizing_mode="stretch_width", tools=TOOLS, active_scroll="xwheel_zoom",
                 title="Query spectrum and one twin", y_axis_label="normalised flux", name="twins-overlay")
    fig.xaxis.visible = False
    query_line = fig.line(wavelength, query, color="#101828", line_width=1.3)
    twin_line = fig.line("wavelength", "flux", source=chosen, color=Category10_10[3], alpha=0.85, line_width=1.1)
    legend_above(fig, [(query_label, [query_line]), ("the chosen twin", [twin_line])])
    difference = figure(height=170, sizing_mode="stretch_width", tools=TOOLS, active_scroll="xwheel_zoom",
                        x_range=fig.x_range, x_axis_label="wavelength (Å)", y_axis_label="twin − query",
                        name="twins-difference")
    difference.add_layout(Span(location=0.0, dimension="width", line_color="#98a2b3", line_dash="dashed"))
    difference.line("wavelength", "difference", source=chosen, color=Category10_10[3], line_width=1)
    difference.add_tools(HoverTool(tooltips=[("λ", "@wavelength{0.00} Å"), ("twin − query", "@difference{0.0000}")],
                                   mode="vline"))
    labels = [label for label, _ in twins] or ["(no twin on this survey's grid)"]
    menu = Select(title="twin", options=[(str(k), label) for k, label in enumerate(labels)], value="0",
                  sizing_mode="stretch_width", name="twin-menu")
    menu.js_on_change("value", CustomJS(args={"every": every, "chosen": chosen}, code="""
        const query = every.data.query, flux = every.data["twin" + cb_obj.value];
        if (flux === undefined) { return; }
        chosen.data = {wavelength: every.data.wavelength, flux: flux,
                       difference: Array.from(flux, (value, i) => value - query[i])};
    """))
    return json_item(column(menu, fig, difference, sizing_mode="stretch_width"))


def peculiarity_item(*, wavelength, difference, features: list[dict], title: str, legend: str) -> dict:
    """A difference spectrum (a star's residual against its twins', or a group's drawing against
    the catalog's; ``catalog.inference``), its strongest features marked and named after their lines."""
    fig = figure(height=260, sizing_mode="stretch_width", tools=TOOLS, active_scroll="xwheel_zoom", title=title,
                 x_axis_label="wavelength (Å)", y_axis_label="Δ normalised flux", name="peculiarity")
    wavelength, difference = with_gaps(wavelength, difference)
    line = fig.line(wavelength, difference, color=Category10_10[3], line_width=1.1)
    fig.add_layout(Span(location=0, dimension="width", line_color="#98a2b3", line_dash="dashed"))
    for feature in features:
        fig.add_layout(Span(location=feature["wavelength"], dimension="height", line_color="#2f5fd0", line_alpha=0.35))
        fig.add_layout(Label(x=feature["wavelength"], y=feature["difference"], text=feature["line"] or "?",
                             text_font_size="9pt", text_color="#2f5fd0", x_offset=3,
                             y_offset=4 if feature["difference"] >= 0 else -14))
    legend_above(fig, [(legend, [line])])
    fig.add_tools(HoverTool(renderers=[line], tooltips=[("λ", "@x{0.00} Å"), ("Δ", "@y{0.0000}")], mode="vline"))
    return json_item(fig)
