"""Merging cases (Dynamics 365's Merge Cases): up to 10 cases into a master, same parent only."""

from xrm_case_merge.plugin import CaseMergePlugin

__all__ = ["CaseMergePlugin"]
