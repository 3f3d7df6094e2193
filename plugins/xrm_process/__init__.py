"""Business process flows: each record of an entity with processes gets an instance of the default
one on create (``processinstance``), which the process actions move through its stages.

``move_next_stage`` checks the active stage's required data steps and follows branch conditions;
``set_process`` switches a record to another process; ``finish_process``, ``abort_process`` and
``reactivate_process`` change the instance's state (active, finished, aborted).
"""

from xrm_process.plugin import ABORTED, ACTIVE, FINISHED, INSTANCE, ProcessPlugin
from xrm_process.stages import StageNavigator, processes_of

__all__ = ["ProcessPlugin", "StageNavigator", "processes_of", "INSTANCE", "ACTIVE", "FINISHED", "ABORTED"]
