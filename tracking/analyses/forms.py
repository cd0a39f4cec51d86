"""The "Add analysis" form: parses input only; `analysis_create` validates and saves."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from tracking.analyses.services import MAX_TEXT_CHARS, MAX_TITLE_CHARS, MAX_UPLOAD_BYTES


class AnalysisForm(forms.Form):
    title = forms.CharField(max_length=MAX_TITLE_CHARS)
    author = forms.CharField(
        max_length=200, required=False, help_text="Who wrote it, e.g. “Economic section”."
    )
    document_date = forms.DateField(
        label="Date of the document", widget=forms.DateInput(attrs={"type": "date"})
    )
    source_url = forms.URLField(
        label="Source link", max_length=1000, required=False, assume_scheme="https"
    )
    text = forms.CharField(
        label="Paste the text",
        required=False,
        strip=False,
        max_length=MAX_TEXT_CHARS,
        widget=forms.Textarea(attrs={"rows": 14}),
    )
    file = forms.FileField(
        label="… or upload a file",
        required=False,
        help_text=f"PDF, Word (.docx), text or Markdown, up to {MAX_UPLOAD_BYTES // 2**20} MB.",
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.docx,.txt,.md,.markdown"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["document_date"].initial = timezone.localdate()

    def clean(self):
        data = super().clean()
        has_text = bool((data.get("text") or "").strip())
        if not has_text and not data.get("file") and not self.errors:
            self.add_error("text", "Paste the analysis or upload a file.")
        if has_text and data.get("file"):
            self.add_error("file", "Paste the text or upload a file, not both.")
        return data
