"""The ``merge_cases`` action: checks the cases, then merges each into the master with the
platform's merge message (children move per each relationship's merge cascade, the merged case
closes with the configured status and points to the master).

Step configuration: ``max_cases`` (default 10), ``parent_lookup`` (cases must share its value;
default ``parentcaseid``), ``merged_state`` and ``merged_status`` (default 2 and 2000: Canceled /
Merged).
"""

from __future__ import annotations

import uuid
from typing import Any

from xrm.data import EntityReference, ExecutionContext
from xrm.data.messages import MergeRequest
from xrm.errors import AttributeProblem, InvalidOperationError, ValidationError

__all__ = ["CaseMergePlugin"]


class CaseMergePlugin:
    """See the module docstring for the configuration."""

    def __init__(self, configuration: dict[str, Any]) -> None:
        self.max_cases = int(configuration.get("max_cases", 10))
        self.parent_lookup = str(configuration.get("parent_lookup", "parentcaseid"))
        self.merged_state = int(configuration.get("merged_state", 2))
        self.merged_status = int(configuration.get("merged_status", 2000))

    def execute(self, context: ExecutionContext) -> None:
        master = context.target
        if context.message != "merge_cases" or not isinstance(master, EntityReference):
            return
        cases = self._case_ids(master.logical_name, context.input_parameters.get("cases"), master.id)
        service = context.service
        parent_of = {
            record: service.retrieve(master.logical_name, record, [self.parent_lookup]).get(self.parent_lookup)
            for record in (master.id, *cases)
        }
        parents = {getattr(parent, "id", None) for parent in parent_of.values()}
        if len(parents) > 1:
            raise InvalidOperationError(
                f"cases with different parents cannot be merged ({len(parents)} different '{self.parent_lookup}' values)"
            )
        moved = 0
        for case in cases:
            request = MergeRequest(
                master,
                EntityReference(master.logical_name, case),
                subordinate_state=self.merged_state,
                subordinate_status=self.merged_status,
            )
            moved += int(service.execute(request).results.get("moved", 0))
        context.output_parameters["moved"] = moved

    def _case_ids(self, entity: str, given: Any, master: uuid.UUID) -> list[uuid.UUID]:
        def refuse(message: str) -> None:
            raise ValidationError(entity, [AttributeProblem("cases", message)])

        if not isinstance(given, list) or not given:
            refuse("give a list of case ids to merge into the master")
        try:
            cases = list(dict.fromkeys(uuid.UUID(str(value)) for value in given))
        except ValueError:
            refuse("every item must be a case id (a UUID)")
        if master in cases:
            refuse("the master case cannot be merged into itself")
        if len(cases) > self.max_cases:
            refuse(f"at most {self.max_cases} cases can be merged at once ({len(cases)} given)")
        return cases
