"""Data: records, requests, the plugin pipeline and the organization service."""

from xrm.data.context import MAX_DEPTH, ExecutionContext
from xrm.data.entity import Entity, EntityReference
from xrm.data.environment import ROOT_BUSINESS_UNIT_ID, SYSTEM_USER_ID, Environment
from xrm.data.messages import EntityCollection, ExecuteMultipleResponse
from xrm.data.pipeline import Pipeline, Plugin, PluginResolver, RegisteredStep
from xrm.data.service import OrganizationService

__all__ = [
    "Entity",
    "EntityCollection",
    "EntityReference",
    "Environment",
    "ExecuteMultipleResponse",
    "ExecutionContext",
    "MAX_DEPTH",
    "OrganizationService",
    "Pipeline",
    "Plugin",
    "PluginResolver",
    "ROOT_BUSINESS_UNIT_ID",
    "RegisteredStep",
    "SYSTEM_USER_ID",
]
