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
