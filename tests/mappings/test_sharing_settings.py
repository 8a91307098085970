"""A template's buyer settings: sharing, the check-in cadence and resources, read and refused
as RevOps write them."""

from __future__ import annotations

import pytest

from mappings.model import CheckInCadence
from tests.mappings.sample import report_after


def _template_settings(**settings: object):
    def change(data: dict) -> None:
        data["templates"][0].update(settings)
    return report_after(change)


def test_sharing_cadence_and_resources_are_read() -> None:
    report = _template_settings(share=True, check_in="every_two_weeks", resources=[
        {"title": "Security pack", "link": "https://acme.example/security", "side": "seller"}])
    assert report.errors == []
    template = report.mapping.templates[0]
    assert template.share is True
    assert template.check_in is CheckInCadence.EVERY_TWO_WEEKS
    assert template.check_in.days == 14
    assert template.resources[0].title == "Security pack"


@pytest.mark.parametrize(("settings", "expected"), [
    ({"check_in": "fortnightly"},
     "templates[0].check_in: must be one of weekly, every two weeks, monthly"),
    ({"resources": [{"title": "Deck", "link": "ftp://acme.example/deck"}]},
     "templates[0].resources[0].link"),
    ({"resources": [{"title": "Deck", "link": "https://acme.example", "owner": "x"}]},
     "templates[0].resources[0].owner"),
])
def test_bad_settings_are_reported_where_they_are(settings: dict, expected: str) -> None:
    report = _template_settings(**settings)
    assert any(expected in str(problem) for problem in report.errors), report.errors
