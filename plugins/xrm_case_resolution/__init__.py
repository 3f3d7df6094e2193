"""Case resolution: the ``resolve_case``, ``cancel_case`` and ``reactivate_case`` actions.

- ``resolve_case(target=incident, subject, status?, billable_minutes?, description?,
  cancel_open_activities?)``: refuses while activities regarding the case are open (naming how
  many) unless ``cancel_open_activities``, which cancels them first; creates a completed case
  resolution activity whose total time is the sum of the actual durations of the case's
  activities, then moves the case to the Resolved status ``status`` (default the state's default).
- ``cancel_case(...)``: the same, to a Canceled status.
- ``reactivate_case(target=incident)``: the case goes back to Active (its default status); its
  completed resolution activities are marked canceled.

Everything runs in the action's transaction: an error anywhere leaves nothing changed.
"""

from xrm_case_resolution.plugin import CaseResolutionPlugin

__all__ = ["CaseResolutionPlugin"]
