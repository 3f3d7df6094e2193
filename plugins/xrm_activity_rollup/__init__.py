"""Activity rollup: an account's activities include those of its contacts, cases and other records
related through relationships whose ``activity_rollup`` is ``related`` or ``extended``.

The plugin serves the ``retrieve_activities`` action (one UNION query over every activity entity)
and keeps activity rollup attributes (e.g. open activities, total minutes) current.
"""

from xrm_activity_rollup.plugin import ActivityRollupPlugin
from xrm_activity_rollup.query import activity_entities, activity_query, rollup_parents

__all__ = ["ActivityRollupPlugin", "activity_entities", "activity_query", "rollup_parents"]
