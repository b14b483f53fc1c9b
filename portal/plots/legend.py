"""Legends in a strip above the plot, never over the data."""
from __future__ import annotations

from bokeh.models import Legend


def legend_above(fig, items: list | None = None) -> None:
    """Put ``fig``'s legend (the one its ``legend_label`` lines made, or a new one of ``items``,
    [(label, [renderer, …]), …]) in a horizontal strip above the plot; a click hides a line."""
    if items is None:
        legend = fig.legend[0]
        fig.center.remove(legend)
    else:
        legend = Legend(items=items)
    legend.update(orientation="horizontal", label_text_font_size="9pt", click_policy="hide", margin=0, padding=4)
    fig.add_layout(legend, "above")
