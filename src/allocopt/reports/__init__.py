"""Rendering for people: text and markdown tables with units and labels, charts, and the meeting page. Renderers
only render: they never build a model or solve."""
