"""Output control: nothing disclosive leaves the RA, and the checker can see why.

Every export goes through an :class:`ExportSession` (one per run): frequency and statistics
tables get primary and secondary suppression (linked across the run's tables over one
population), models and figures are checked, person keys are blocked, and the run's log
(``results.json`` in ACRO's layout, ``summary.md``) says what was checked and suppressed.
See docs/output-control.md.
"""

from jeugdkit.output.audit import audit_tables, feasible_intervals
from jeugdkit.output.keys import check_no_person_keys, find_person_keys
from jeugdkit.output.models import model_checks
from jeugdkit.output.period import PeriodLedger
from jeugdkit.output.session import ExportSession, Output

__all__ = ["ExportSession", "Output", "PeriodLedger", "audit_tables", "feasible_intervals",
           "check_no_person_keys", "find_person_keys", "model_checks"]
