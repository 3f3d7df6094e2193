"""Workflows: the automation rules of ``workflows/*.yaml`` run on create, update, status change,
assign, on a schedule or on demand, in the operation's transaction (sync) or in the job worker (async).
"""

from xrm_workflow.index import WorkflowIndex, workflow_index
from xrm_workflow.plugin import WorkflowPlugin

__all__ = ["WorkflowIndex", "WorkflowPlugin", "workflow_index"]
