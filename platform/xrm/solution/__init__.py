"""Solutions: discovery, dependency order, install / upgrade / uninstall."""

from xrm.solution.discovery import available_solutions, resolve_source, system_layer_path
from xrm.solution.manager import OperationResult, SolutionManager, load_definition

__all__ = [
    "OperationResult",
    "SolutionManager",
    "available_solutions",
    "load_definition",
    "resolve_source",
    "system_layer_path",
]
