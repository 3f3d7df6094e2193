"""Service level agreements: SLA KPI instances of records of ``sla_enabled`` entities.

On create, update and set_state the plugin applies the record's SLA (the one it names, else the
entity's default): it creates a KPI instance when an SLA item applies, pauses it while the record
is in one of the SLA's pause statuses, resumes it, and marks it succeeded or canceled.
:func:`check_sla_timers` (run by the server's job worker) moves instances whose warning or failure
time passed to nearing noncompliance / noncompliant and runs the item's actions once.
"""

from xrm_sla.model import KpiStatus
from xrm_sla.plugin import SlaPlugin, countdown_minutes
from xrm_sla.timers import check_sla_timers

__all__ = ["KpiStatus", "SlaPlugin", "check_sla_timers", "countdown_minutes"]
