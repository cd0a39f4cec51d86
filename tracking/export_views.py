"""The export page: /strategies/<pk>/export/ — a small GET form (format, public release,
appendix) whose submission downloads the ICS-shaped document.

Thin, like `tracking.views`: any member of the strategy's mission may export (viewers
too: the document shows nothing the strategy page does not); strategies of other
missions are 404s. The file comes from `tracking.documents.strategy_document`, the same
function the API and `manage.py export_strategy` call. A GET, because exporting changes
nothing and the URL of a download can be shared and bookmarked.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe

from strategy.selectors import visible_strategies
from tracking.documents import strategy_document


class ExportForm(forms.Form):
    format = forms.ChoiceField(
        label="Format",
        choices=[
            ("pdf", "PDF — to read, print and send"),
            ("docx", "Word (DOCX) — to edit"),
            ("md", "Markdown — plain text"),
        ],
        initial="pdf",
        widget=forms.RadioSelect,
    )
    public = forms.BooleanField(
        label="Public release version",
        required=False,
        help_text="Leaves out the narrative and notes marked sensitive and marks every "
        "page FOR PUBLIC RELEASE.",
    )
    appendix = forms.BooleanField(
        label="Add an appendix of indicators and milestones",
        required=False,
        help_text="Each goal and objective's indicators with their latest values, its "
        "milestones and its latest approved progress note.",
    )


@login_required
@require_safe
def strategy_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The form; with `format` in the query, the document as a download."""
    strategy = get_object_or_404(visible_strategies(user=request.user), pk=pk)
    form = ExportForm(request.GET if "format" in request.GET else None)
    if form.is_bound and form.is_valid():
        document = strategy_document(
            strategy=strategy,
            fmt=form.cleaned_data["format"],
            public=form.cleaned_data["public"],
            appendix=form.cleaned_data["appendix"],
        )
        response = HttpResponse(document.content, content_type=document.content_type)
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=document.filename
        )
        response["Cache-Control"] = "private, no-store"  # a mission's business, always fresh
        return response
    status = 400 if form.is_bound else 200
    return render(
        request,
        "tracking/strategy_export.html",
        {"strategy": strategy, "form": form},
        status=status,
    )
