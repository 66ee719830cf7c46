"""Trap 2: explaining differences between gemeenten (docs/deepdive.md).

::

    from jeugdkit.deepdive import deep_dive, release_deep_dive, build_panel

    dd = deep_dive(pop, gemeente="0363", groups=groups, panel=build_panel(reader))
    release_deep_dive(dd, "export/")

Modules, in the direction data flows: ``model`` (the modelling frame) -> ``oe`` (observed
versus expected) -> ``funnel`` -> ``effects`` (LPM with gemeente absorbed, logit, shrinkage)
-> ``decompose`` (Kitagawa, Oaxaca-Blinder) -> ``panel`` (PanelOLS) -> ``release`` (output
control, files, CLI).
"""

from jeugdkit.deepdive.decompose import decompose, kitagawa, oaxaca
from jeugdkit.deepdive.effects import dersimonian_laird, gemeente_effects, shrink
from jeugdkit.deepdive.funnel import funnel, funnel_limits, funnel_plot, overdispersion
from jeugdkit.deepdive.model import design, model_frame
from jeugdkit.deepdive.oe import observed_vs_expected, poisson_interval, ratio_interval
from jeugdkit.deepdive.panel import build_panel, panel_rows, wijkteam_panel
from jeugdkit.deepdive.release import DeepDive, deep_dive, release_deep_dive

__all__ = ["DeepDive", "build_panel", "decompose", "deep_dive", "dersimonian_laird", "design",
           "funnel", "funnel_limits", "funnel_plot", "gemeente_effects", "kitagawa",
           "model_frame", "oaxaca", "observed_vs_expected", "overdispersion", "panel_rows",
           "poisson_interval", "ratio_interval", "release_deep_dive", "shrink",
           "wijkteam_panel"]
