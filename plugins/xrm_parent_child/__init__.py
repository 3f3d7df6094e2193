"""Parent and child records (Dynamics 365's parent and child cases): one level, a limit of
children per parent, fields the child inherits from its parent, and a closure policy."""

from xrm_parent_child.plugin import CLOSURE_POLICIES, ParentChildPlugin

__all__ = ["CLOSURE_POLICIES", "ParentChildPlugin"]
