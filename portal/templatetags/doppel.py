"""Template helpers: mount Bokeh json_items, format numbers astronomers read."""
from django import template
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join, json_script
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag
def bokeh_scripts():
    """BokehJS from the installed bokeh package (static/bokeh/js/…), so JS and Python versions match."""
    return format_html_join("", '<script src="{}"></script>\n', ((static(f"bokeh/js/{name}.min.js"),)
                                                                 for name in ("bokeh", "bokeh-widgets", "bokeh-tables")))


@register.simple_tag
def bokeh_items(plots):
    """One <script type="application/json" id="KEY-item"> per plot; doppel.js mounts each in #KEY."""
    if not plots:
        return ""
    return mark_safe("".join(json_script(item, f"{key}-item") for key, item in plots.items() if item))


@register.filter
def num(value, digits=2):
    """A number with ``digits`` decimals, or an em dash when missing."""
    if value is None or value == "":
        return "—"
    try:
        return f"{float(value):.{int(digits)}f}"
    except (TypeError, ValueError):
        return value


@register.filter
def count(value):
    """A count with thousands separated ("8,298,202"), as a person reads it."""
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return value


@register.filter
def cell(value):
    """A query result's value as a table shows it: floats to 8 significant digits (an RA of
    100–360° to 10⁻⁵ degrees, 36 mas), nothing for NULL."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.8g}"
    return value


@register.simple_tag(takes_context=True)
def sort_link(context, field, label):
    order = context.get("order", "")
    query = context.get("query", "")
    descending = order == field
    target = f"-{field}" if descending else field
    arrow = " ▲" if order == field else (" ▼" if order == f"-{field}" else "")
    return format_html('<a href="?{}{}ordering={}">{}{}</a>', query, "&" if query else "", target, label, arrow)


@register.filter
def index(sequence, position):
    """``sequence[position]``, or None when it is missing or too short."""
    try:
        return sequence[int(position)]
    except (TypeError, ValueError, IndexError, KeyError):
        return None


def abundance_name(key: str) -> str:
    """A label key as astronomers write it: "Mg_Fe" → "[Mg/Fe]", "Fe_H" → "[Fe/H]"; others unchanged."""
    element, _, reference = str(key).partition("_")
    return f"[{element}/{reference}]" if element and reference in ("Fe", "H", "M") else str(key)


@register.simple_tag
def abundance_table(labels):
    """The abundances of a star's label sets as one table: {"sources": [source, …], "rows": [{"name":
    "[Mg/Fe]", "cells": [(value, error) or None per source]}, …]}, elements in the order first seen;
    values in dex. Empty rows when no label set has abundances."""
    sources = [label for label in labels if label.abundances]
    keys = list(dict.fromkeys(key for label in sources for key in label.abundances))
    rows = [{"name": abundance_name(key),
             "cells": [(label.abundances[key], (label.abundance_errors or {}).get(key)) if key in label.abundances else None
                       for label in sources]} for key in keys]
    return {"sources": [label.source for label in sources], "rows": rows}
