"""Presentation of model runs: the terminal timeline, the HTML report with its sequence
diagram, and policy comparison tables. Reads trace events; never imports the model."""

from .compare import compare_rich, compare_table
from .html import ReportRun, render_html
from .lifelines import Lifeline, lifeline_of, lifelines
from .sequence import Step, crossings, sequence_svg, steps
from .timeline import print_timeline, timeline_rows

__all__ = ["Lifeline", "ReportRun", "Step", "compare_rich", "compare_table", "crossings",
           "lifeline_of", "lifelines", "print_timeline", "render_html", "sequence_svg",
           "steps", "timeline_rows"]
