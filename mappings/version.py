"""The version of a template a plan is built with: what ``mapsync mappings apply`` rolls out.

A plan records it (``Mutual_Action_Plan__c.Mapping_Version__c``) and keeps its milestones while
the mapping's version of its template differs, until RevOps applies the change on purpose.
Only the milestones count (keys, names, stages, sides, durations, order, dependencies): they
are what a change does to existing plans; a new summary or rule changes no existing plan.
"""

from __future__ import annotations

import hashlib
import json

from mappings.model import Template

VERSION_DIGITS = 12


def template_version(template: Template) -> str:
    """``<template key>@<first 12 hex of the SHA-256 of its milestones' canonical JSON>``."""
    canonical = json.dumps([m.model_dump(mode="json") for m in template.milestones],
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:VERSION_DIGITS]
    return f"{template.name}@{digest}"
