"""Forms of `strategy`'s pages: the two steps of the ICS import page (strategy.views).

Step 1, `ImportUploadForm`: a file (TXT, Markdown, PDF with a text layer, or DOCX) or
pasted text, at most `settings.ICS_IMPORT_MAX_BYTES`, and the strategy to
import into. Its `clean` turns the upload into the document's text
(`strategy.ics.extract.document_text`); the page then runs a dry run and shows the preview.

Step 2, `ImportConfirmForm`: the preview page carries the document back to the server in a
signed payload, and confirming imports exactly that text.

How the document is kept between the two steps — signed and re-posted, not stored:
the preview page holds one hidden field, `django.core.signing.dumps` of {document, file
name, target strategy, mission, user}, zlib-compressed and HMAC-signed with SECRET_KEY (salt
`IMPORT_SALT`) and time-stamped. Confirming verifies the signature before anything is
decompressed or read, refuses a payload older than `IMPORT_CONFIRM_MAX_AGE`, made for
another user or mission, or changed in any byte, and then imports the very text that was
previewed. Chosen over keeping the text in the session because it leaves nothing on the
server to expire or clean up (an abandoned preview costs nothing), works with two previews
open in two tabs, and a document of up to 5 MB would bloat every later request's session
row. The cost — the payload travels to the browser and back — is bounded: ICS text
compresses well, the limit is checked again on confirm, and the payload is only readable by
whoever uploaded the document. Replaying a payload within the hour is harmless: importing
the same document again changes nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from strategy.ics.extract import DocumentError, document_text
from strategy.models import Strategy

IMPORT_SALT = "strategy.import.confirm"
IMPORT_CONFIRM_MAX_AGE = 60 * 60  # seconds during which a preview can be confirmed
NEW_STRATEGY = "new"
ACCEPTED_FILES = ".txt,.md,.markdown,.text,text/plain,text/markdown,.pdf,.docx"


def _limit() -> str:
    return filesizeformat(settings.ICS_IMPORT_MAX_BYTES)


def strategy_choice_label(strategy: Strategy) -> str:
    parts = [strategy.title]
    if strategy.period_label:
        parts.append(strategy.period_label)
    parts.append(strategy.get_status_display())
    return " · ".join(parts)


class ImportUploadForm(forms.Form):
    """An ICS document (file or pasted text) and where to import it.

    `strategies`: the mission's strategies, offered as targets with "a new strategy"; None
    when the mission itself comes from the document (a superuser's import into a new
    mission), in which case there is no target to choose. After `is_valid()`,
    `cleaned_data["document"]` is the document's text and `cleaned_data["filename"]` its
    name (or "pasted text").
    """

    file = forms.FileField(
        required=False,
        label="Document file",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED_FILES}),
    )
    text = forms.CharField(
        required=False,
        strip=False,
        label="Or paste the document's text",
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false"}),
    )
    target = forms.ChoiceField(
        label="Import into",
        help_text=(
            "“A new strategy” updates an existing one instead when the mission has a strategy "
            "of the document's kind and period; the preview says which."
        ),
    )

    def __init__(self, *args: Any, strategies: list[Strategy] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limit = _limit()
        self.fields["file"].help_text = (
            f"PDF, Word (.docx), plain text (.txt) or Markdown (.md), up to {limit}. "
            "A scanned PDF needs OCR first."
        )
        self.fields["text"].help_text = f"Instead of a file; up to {limit}."
        self.strategies = {str(s.pk): s for s in strategies or []}
        if strategies is None:
            del self.fields["target"]
        else:
            self.fields["target"].choices = [
                *((str(s.pk), strategy_choice_label(s)) for s in strategies),
                (NEW_STRATEGY, "A new strategy"),
            ]
            if not self.fields["target"].initial:
                self.fields["target"].initial = (
                    str(strategies[0].pk) if strategies else NEW_STRATEGY
                )

    def target_strategy(self) -> Strategy | None:
        """The chosen strategy, or None for a new one (or a new mission)."""
        return self.strategies.get(self.cleaned_data.get("target", NEW_STRATEGY))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("file")
        text = data.get("text") or ""
        if upload and text.strip():
            raise ValidationError(
                "Upload a file or paste the text, not both: clear one of them and try again."
            )
        if not upload and not text.strip():
            raise ValidationError("Choose a file to upload, or paste the document's text.")
        limit = settings.ICS_IMPORT_MAX_BYTES
        if upload:
            field, name = "file", upload.name
            if upload.size > limit:
                self.add_error(
                    "file",
                    f"“{name}” is {filesizeformat(upload.size)}; the limit is {_limit()}. "
                    "Remove what is not part of the strategy (annexes, images) and try again.",
                )
                return data
            raw = upload.read()
        else:
            field, name = "text", "pasted text"
            raw = text.encode("utf-8")
            if len(raw) > limit:
                self.add_error(
                    "text",
                    f"The pasted text is {filesizeformat(len(raw))}; the limit is {_limit()}.",
                )
                return data
        try:
            data["document"] = document_text(raw, filename=name)
        except DocumentError as exc:
            self.add_error(field, str(exc))
            return data
        data["filename"] = name
        return data


def sign_import(
    *, user_id: int, mission_id: int | None, target: str, document: str, filename: str
) -> str:
    """The preview's confirmation payload (see the module docstring)."""
    return signing.dumps(
        {
            "user": user_id,
            "mission": mission_id,
            "target": target,
            "document": document,
            "filename": filename,
        },
        salt=IMPORT_SALT,
        compress=True,
    )


TAMPERED = (
    "This confirmation does not match the preview it came from (it was changed, cut short "
    "or made for someone else). Nothing was imported: upload the document again."
)
EXPIRED = (
    "This preview is more than an hour old, so it can no longer be confirmed. Nothing was "
    "imported: upload the document again to see a fresh preview."
)


class ImportConfirmForm(forms.Form):
    """The preview's signed payload. After `is_valid()`, `cleaned_data["payload"]` is the
    dict `sign_import` signed: the same user, mission and document as the preview."""

    payload = forms.CharField(
        widget=forms.HiddenInput, strip=False, error_messages={"required": TAMPERED}
    )

    def __init__(self, *args: Any, user_id: int, mission_id: int | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user_id = user_id
        self.mission_id = mission_id

    def clean_payload(self) -> dict[str, Any]:
        try:
            data = signing.loads(
                self.cleaned_data["payload"], salt=IMPORT_SALT, max_age=IMPORT_CONFIRM_MAX_AGE
            )
        except signing.SignatureExpired as exc:
            raise ValidationError(EXPIRED) from exc
        except signing.BadSignature as exc:
            raise ValidationError(TAMPERED) from exc
        if (
            not isinstance(data, dict)
            or data.get("user") != self.user_id
            or data.get("mission") != self.mission_id
            or not isinstance(data.get("document"), str)
        ):
            raise ValidationError(TAMPERED)
        if len(data["document"].encode("utf-8")) > settings.ICS_IMPORT_MAX_BYTES:
            raise ValidationError(f"The document is over {_limit()}; nothing was imported.")
        return data
