"""The workflows of a model indexed by entity and trigger, built once per model."""

from __future__ import annotations

import threading
import uuid
import weakref

from xrm.metadata import Model
from xrm.metadata.workflow import WorkflowMetadata, WorkflowTrigger

__all__ = ["WorkflowIndex", "workflow_index", "schedule_id"]

_NAMESPACE = uuid.UUID("6f1c2b1e-3f0a-4d59-9a43-0c1e5b7d2a10")


class WorkflowIndex:
    """Workflows by name, and by (entity, trigger) in execution order (``order``, then name)."""

    def __init__(self, model: Model) -> None:
        self.by_name: dict[str, WorkflowMetadata] = {
            name: component.metadata
            for name, component in model.workflows.items()
            if isinstance(component.metadata, WorkflowMetadata)
        }
        self._by_trigger: dict[tuple[str, WorkflowTrigger], list[WorkflowMetadata]] = {}
        for workflow in sorted(self.by_name.values(), key=lambda w: (w.order, w.name)):
            self._by_trigger.setdefault((workflow.entity, workflow.trigger.event), []).append(workflow)
        self.entities = frozenset(workflow.entity for workflow in self.by_name.values())

    def for_trigger(self, entity: str, event: WorkflowTrigger) -> list[WorkflowMetadata]:
        return self._by_trigger.get((entity, event), [])

    def scheduled(self) -> list[WorkflowMetadata]:
        return [w for (_, event), found in self._by_trigger.items() if event is WorkflowTrigger.SCHEDULE for w in found]


_cache: dict[int, tuple[weakref.ref[Model], WorkflowIndex]] = {}
_lock = threading.Lock()


def workflow_index(model: Model) -> WorkflowIndex:
    """The index of ``model``, built on first use (a reloaded model gets a new one)."""
    key = id(model)
    with _lock:
        found = _cache.get(key)
        if found is not None and found[0]() is model:
            return found[1]
        for stale in [k for k, (ref, _) in _cache.items() if ref() is None]:
            del _cache[stale]
        index = WorkflowIndex(model)
        _cache[key] = (weakref.ref(model), index)
        return index


def schedule_id(workflow: WorkflowMetadata) -> uuid.UUID:
    """The id the runs of a scheduled workflow are filed under in the job table."""
    return workflow.id or uuid.uuid5(_NAMESPACE, workflow.name)
