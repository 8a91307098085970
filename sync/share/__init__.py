"""The buyer's copy of a plan: what it shows (``document``, ``build``) and how it is rendered
(``render``: HTML and PDF from one template). Pure: plan data in, bytes out; storing the
document in Salesforce is the share job's (``sync/jobs/share.py``)."""

from sync.share.build import shared_plan
from sync.share.document import SharedPlan
from sync.share.render import file_name, render_html, render_pdf

__all__ = ["SharedPlan", "file_name", "render_html", "render_pdf", "shared_plan"]
