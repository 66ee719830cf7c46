"""Reports: parametrised notebooks run with papermill, rendered to one offline HTML per
gemeente and period, with the output-controlled export beside it.

- :class:`Study`: a period's shared intermediates (population, history, panel), computed once.
- :func:`run_reports`: the chain for one gemeente or all, in parallel and resumable.
- :func:`render_report`: executed notebooks to one self-contained HTML without code.
"""

from jeugdkit.report.study import Study

__all__ = ["Study"]
