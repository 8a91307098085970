"""The buyer's plan rendered: what it shows, what it never shows, and both formats."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from sync.share import render_html, render_pdf
from sync.share.render import day, short_day
from tests.share.samples import INTERNAL, TODAY, sample


def pdf_text(content: bytes) -> str:
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def test_the_pdf_shows_every_outcome_owner_and_date() -> None:
    plan = sample()
    text = pdf_text(render_pdf(plan))
    for outcome in plan.outcomes:
        assert outcome.name in text
        assert outcome.owner in text
        for date in (outcome.committed, outcome.expected):
            assert date is None or short_day(date) in text
    for key_date in (plan.target_close, plan.go_live, plan.compelling_event_date):
        assert day(key_date) in text
    assert "Peak season starts" in text
    assert "Initech - Platform" in text  # the en dash folded for the PDF's font


def test_the_pdf_says_what_is_done_and_what_slipped_in_words() -> None:
    text = pdf_text(render_pdf(sample()))
    assert "Discovery completed: done Thu 19 Nov 2026 (Pat Buyer)" in text
    assert "5 business days behind" in text
    assert "Security review (buyer side)" in text
    assert "all on the buyer side" in text
    assert "about a week late" in text


def test_resources_and_collaborators_are_shown() -> None:
    text = pdf_text(render_pdf(sample()))
    html = render_html(sample()).decode()
    for shown in ("Customer stories", "Security pack", "Pat Buyer", "Economic Buyer",
                  "pat@initech.example", "Dana Seller", "dana@acme.example"):
        assert shown in text
        assert shown in html
    assert 'href="https://acme.example/security"' in html
    assert "not a link line" not in html


def test_no_internal_field_reaches_either_format() -> None:
    plan = sample()
    for output in (pdf_text(render_pdf(plan)), render_html(plan).decode()):
        for secret in INTERNAL:
            assert secret not in output


def test_the_html_is_self_contained_and_fits_a_phone() -> None:
    html = render_html(sample()).decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<style>" in html
    assert "@media (max-width:600px)" in html
    assert not re.search(r'<(link|script|img)\b', html)
    assert not re.search(r'src=|url\(', html)


def test_a_reps_text_is_escaped_not_run() -> None:
    html = render_html(sample()).decode()
    assert "<script>x</script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_the_digest_follows_content_not_the_day() -> None:
    day_before = TODAY.replace(day=29)
    assert sample(today=day_before).as_of != sample().as_of
    assert sample(today=day_before).digest() == sample().digest()
    assert sample().digest() != sample(Summary__c="A new summary").digest()
    assert sample().digest() != sample(Days_Slipped__c=0).digest()


def test_a_plan_without_slip_or_people_still_reads_well() -> None:
    plan = sample(Days_Slipped__c=0, Summary__c=None, Resources__c=None)
    text = pdf_text(render_pdf(plan))
    assert "Nothing: every outcome is on its committed date." in text
    assert "To be written together at our next check-in." in text
    assert "Where we stand: On schedule" in text
