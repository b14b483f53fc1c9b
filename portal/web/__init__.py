"""The astronomer-facing web pages (Django templates + Bokeh json_item)."""
