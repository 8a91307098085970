"""A world whose mapping shares every plan with the buyer, with a resource and a check-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from connectors.emulator.server import Emulator
from mappings.loader import default_mapping_path, load_mapping
from mappings.model import ResourceSpec, StageMapping, Template
from tests.sync.world import World

STORIES = ResourceSpec(title="Customer stories", link="https://acme.example/stories")


def sharing_mapping(**template: Any) -> StageMapping:
    base = load_mapping(default_mapping_path())
    settings = {"share": True, "resources": [STORIES.model_dump()], **template}
    return base.model_copy(update={"templates": [
        Template.model_validate({**t.model_dump(by_alias=True, exclude_none=True), **settings})
        for t in base.templates]})


@pytest.fixture
def world(emulator: Emulator, tmp_path: Path) -> World:
    return World(emulator, tmp_path, mapping=sharing_mapping(check_in="weekly"))
