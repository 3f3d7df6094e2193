"""xrm: a metadata-driven entity platform in the style of Dynamics 365 / Dataverse.

The names solution and plugin authors need are importable from here; everything else lives in
the layer subpackages (metadata -> schema -> solution -> cli).
"""

from xrm.errors import (
    DataLossError,
    MetadataError,
    MetadataIssue,
    MigrationError,
    SolutionError,
    XrmError,
)
from xrm.metadata import Model, compile_model, load_solution
from xrm.schema import open_engine
from xrm.solution import SolutionManager

__version__ = "0.1.0"

__all__ = [
    "DataLossError",
    "MetadataError",
    "MetadataIssue",
    "MigrationError",
    "Model",
    "SolutionError",
    "SolutionManager",
    "XrmError",
    "__version__",
    "compile_model",
    "load_solution",
    "open_engine",
]
