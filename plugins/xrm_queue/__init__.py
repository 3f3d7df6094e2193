"""Queues: records of queue-enabled entities (``queue_enabled: true``) wait in queues as queue items.

Actions (custom actions in the system layer; ``target`` is the record unless noted):

- ``add_to_queue(target, queue)``: put the record in ``queue`` (a reference to a queue). A record
  already active in another queue moves there (same queue item, worker cleared); returns
  ``queueitemid`` (a reference to the record's active queue item).
- ``route_to(target, queue | user | team)``: exactly one of the three references. ``queue``: as
  ``add_to_queue`` (returns ``queueitemid``); ``user``/``team``: the record is assigned to them,
  its active queue item stays in its queue, worked by that user (or released, for a team).
- ``pick_from_queue(target=queueitem, worker?, remove?)``: ``worker`` (a systemuser, default the
  caller) starts working the item; ``remove: true`` also takes it out of the queue.
- ``release_to_queue(target=queueitem)``: clear the worker.
- ``remove_from_queue(target=queueitem)``: take the item out of its queue (deactivated).

Closing a queue-enabled record (``set_state`` to a closed state) deactivates its active queue
item. A private queue (``queueviewtype`` 1) is worked by its owner and members only: adding to,
moving into, picking, releasing or removing refuses others with ACCESS_DENIED.
"""

from xrm_queue.items import active_item, require_queue_access
from xrm_queue.plugin import QueuePlugin

__all__ = ["QueuePlugin", "active_item", "require_queue_access"]
