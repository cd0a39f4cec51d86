"""HTML pages of `strategy`: the signed-in user's API tokens (/account/tokens/) and the
ICS import page (/missions/<pk>/import/).

Thin: forms parse, services do the work. Tokens: `strategy.services.api_token_create` /
`api_token_revoke`; a new key is shown once, in the response to the POST that created it
(never in a URL, the session or a message) and that response is not cached. Import:
upload → preview (a dry run of `strategy.services.strategy_import`) → confirm or cancel;
how the previewed document survives until "Confirm" is explained in `strategy.forms`.
The other pages of the tracker live in `tracking`, because they show statuses; these
only link to them by URL name (`strategy` never imports `tracking`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import NamedTuple

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.text import Truncator
from django.views.decorators.http import require_http_methods, require_POST

from strategy import services
from strategy.forms import (
    IMPORT_CONFIRM_MAX_AGE,
    NEW_STRATEGY,
    ImportConfirmForm,
    ImportUploadForm,
    sign_import,
    strategy_choice_label,
)
from strategy.ics.types import Discrepancy, ParsedDocument, ParsedItem
from strategy.models import ApiToken, Mission, NodeKind, Role, Strategy
from strategy.selectors import has_role, visible_missions
from strategy.services import TOKEN_MAX_EXPIRY_DAYS as MAX_EXPIRY_DAYS
from strategy.services import ImportResult


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What will use it, e.g. “indicator pipeline”.",
    )
    expires_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        help_text=f"Optional, 1–{MAX_EXPIRY_DAYS}. Leave empty for a token that lasts until you revoke it.",
        # A text box with a numeric keypad: styled like the other fields, no spinner.
        widget=forms.TextInput(attrs={"inputmode": "numeric", "pattern": "[0-9]*"}),
    )

    def expires_at(self):
        days = self.cleaned_data.get("expires_days")
        return timezone.now() + timedelta(days=days) if days else None


class TokenRow(NamedTuple):
    token: ApiToken
    status: str  # active, expired or revoked
    chip: str  # the status chip's colour class in app.css


def _rows(user) -> list[TokenRow]:
    now = timezone.now()
    rows = []
    for token in ApiToken.objects.filter(user=user).order_by("-created_at", "-pk"):
        if token.revoked_at is not None:
            rows.append(TokenRow(token, "revoked", "not_started"))
        elif not token.is_active_at(now):
            rows.append(TokenRow(token, "expired", "no_data"))
        else:
            rows.append(TokenRow(token, "active", "on_track"))
    return rows


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def api_tokens(request: HttpRequest) -> HttpResponse:
    """The user's tokens and a form to create one; a successful POST shows the key once."""
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    if form.is_valid():
        try:
            token, key = services.api_token_create(
                user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at()
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            response = render(
                request,
                "strategy/api_token_created.html",
                {
                    "token": token,
                    "key": key,
                    "example_url": request.build_absolute_uri("/api/v1/missions/"),
                },
            )
            add_never_cache_headers(response)  # Cache-Control: …no-store…
            return response
    return render(
        request,
        "strategy/api_tokens.html",
        {"form": form, "rows": _rows(request.user), "max_expiry_days": MAX_EXPIRY_DAYS},
    )


@login_required
@require_POST
def api_token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """Revoke one of the user's own tokens; anyone else's is a 404."""
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    services.api_token_revoke(token=token, by=request.user)
    messages.success(request, f"Revoked “{token.name}”: tools using it are refused from now on.")
    return redirect("api-tokens")


# --- ICS import: upload → preview → confirm ------------------------------------------------


def _forbidden(request: HttpRequest, reason: str) -> HttpResponse:
    return render(request, "tracking/forbidden.html", {"reason": reason}, status=403)


def _import_mission(request: HttpRequest, pk: int | None) -> Mission | None:
    """The mission to import into (None: the document names it; superusers only).

    404 for a mission the user cannot see; PermissionDenied for a role below manager."""
    user = request.user
    if pk is None:
        if not user.is_superuser:
            raise PermissionDenied(
                "Only a superuser may import into a new mission; a mission's managers import "
                "from the mission's own import page."
            )
        return None
    mission = get_object_or_404(visible_missions(user=user), pk=pk)
    if not has_role(user, mission.id, Role.MANAGER):
        raise PermissionDenied("You need the manager role to import strategies.")
    return mission


def _import_url(mission: Mission | None) -> str:
    if mission is None:
        return reverse("strategy-import-new-mission")
    return reverse("strategy-import", args=[mission.pk])


def _confirm_url(mission: Mission | None) -> str:
    if mission is None:
        return reverse("strategy-import-new-mission-confirm")
    return reverse("strategy-import-confirm", args=[mission.pk])


class PreviewItem(NamedTuple):
    """One parsed item as the preview lists it."""

    item: ParsedItem
    depth: int
    kind_label: str
    excerpt: str


PROBLEM_LABELS = {
    "title_mismatch": "Titles differ",
    "framework_only": "Only in the framework",
    "detail_only": "Only in the detailed section",
    "missing_parent": "Parent missing",
    "duplicate": "Stated twice",
}


class DiscrepancyRow(NamedTuple):
    discrepancy: Discrepancy
    kind_label: str
    problem_label: str


def _kind_label(kind: str) -> str:
    return NodeKind(kind).label if kind in NodeKind.values else ""


def _preview_items(doc: ParsedDocument) -> list[PreviewItem]:
    rows = []
    for item in doc.items():
        narrative = item.description or item.justification or item.risks
        rows.append(
            PreviewItem(
                item=item,
                depth=item.code.count("."),
                kind_label=_kind_label(item.kind),
                excerpt=Truncator(" ".join(narrative.split())).words(30),
            )
        )
    return rows


@dataclass
class ImportPreview:
    """What the preview page shows: the parsed document and what confirming would change."""

    result: ImportResult
    items: list[PreviewItem]
    counts: list[tuple[str, int]]  # (kind label, number) for kinds the document has
    discrepancies: list[DiscrepancyRow]
    target: str  # one sentence: where the document goes

    @property
    def document(self) -> ParsedDocument:
        return self.result.document


def _target_sentence(result: ImportResult, *, chosen: Strategy | None, chosen_label: str) -> str:
    title = f"“{result.document.title or 'untitled strategy'}”"
    if result.mission_created:
        name = result.document.mission_name or "unnamed"
        return f"A new mission “{name}” will be created, with a new strategy {title}."
    mission_name = result.mission.name if result.mission else ""
    if result.strategy_created:
        return f"A new strategy {title} will be created in {mission_name}."
    if chosen is not None:
        return f"The strategy “{chosen_label}” of {mission_name} will be updated."
    existing = strategy_choice_label(result.strategy) if result.strategy else ""
    return (
        f"{mission_name} already has a strategy of this document's kind and period, "
        f"so it will be updated rather than a new one created ({existing})."
    )


def _preview(result: ImportResult, *, chosen: Strategy | None, chosen_label: str) -> ImportPreview:
    doc = result.document
    counts = [(_kind_label(kind), n) for kind, n in doc.counts().items() if n]
    return ImportPreview(
        result=result,
        items=_preview_items(doc),
        counts=counts,
        discrepancies=[
            DiscrepancyRow(d, _kind_label(d.kind), PROBLEM_LABELS.get(d.problem, d.problem))
            for d in doc.discrepancies
        ],
        target=_target_sentence(result, chosen=chosen, chosen_label=chosen_label),
    )


def _import_form_page(
    request: HttpRequest,
    *,
    mission: Mission | None,
    form: ImportUploadForm,
    status: int = 200,
    errors: list[str] | None = None,
) -> HttpResponse:
    return render(
        request,
        "strategy/import.html",
        {
            "mission": mission,
            "form": form,
            "errors": errors or [],
            "action": _import_url(mission),
            "max_age_minutes": IMPORT_CONFIRM_MAX_AGE // 60,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def strategy_import_page(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Step 1 and 2: the upload form; a valid upload is dry-run and previewed.

    Managers of the mission (and superusers); `pk=None` is a superuser's import into the
    mission the document names, created when missing. Nothing is written here: the
    preview's "Confirm" posts the signed document to `strategy_import_confirm`.
    """
    try:
        mission = _import_mission(request, pk)
    except PermissionDenied as exc:
        return _forbidden(request, str(exc))
    strategies = list(mission.strategies.order_by("-created_at", "-pk")) if mission else None
    if request.method != "POST":
        chosen_pk = request.GET.get("strategy")  # "Import a revised document" on its page
        form = ImportUploadForm(
            strategies=strategies, initial={"target": chosen_pk} if chosen_pk else None
        )
        return _import_form_page(request, mission=mission, form=form)

    form = ImportUploadForm(request.POST, request.FILES, strategies=strategies)
    if not form.is_valid():
        return _import_form_page(request, mission=mission, form=form, status=400)
    chosen = form.target_strategy()
    chosen_label = strategy_choice_label(chosen) if chosen else ""  # before the dry run
    try:
        result = services.strategy_import(
            document=form.cleaned_data["document"],
            mission=mission,
            strategy=chosen,
            dry_run=True,
            by=request.user,
        )
    except PermissionDenied as exc:
        return _forbidden(request, str(exc))
    except ValidationError as exc:
        form.add_error(None, exc.messages)
        return _import_form_page(request, mission=mission, form=form, status=400)
    payload = sign_import(
        user_id=request.user.pk,
        mission_id=mission.pk if mission else None,
        target=str(chosen.pk) if chosen else NEW_STRATEGY,
        document=form.cleaned_data["document"],
        filename=form.cleaned_data["filename"],
    )
    response = render(
        request,
        "strategy/import_preview.html",
        {
            "mission": mission,
            "preview": _preview(result, chosen=chosen, chosen_label=chosen_label),
            "filename": form.cleaned_data["filename"],
            "confirm_form": ImportConfirmForm(
                initial={"payload": payload},
                user_id=request.user.pk,
                mission_id=mission.pk if mission else None,
            ),
            "confirm_url": _confirm_url(mission),
            "max_age_minutes": IMPORT_CONFIRM_MAX_AGE // 60,
        },
    )
    add_never_cache_headers(response)  # it carries the document
    return response


def _changes_summary(result: ImportResult) -> str:
    """One sentence for the message after an import."""
    title = f"“{result.strategy.title}”" if result.strategy else "the strategy"
    if not result.changed_anything:
        return f"Nothing changed: {title} already matches this document."
    if result.strategy_created:
        total = len(result.created)
        where = " in a new mission" if result.mission_created else ""
        return (
            f"Created {title}{where} with {total} goal{'s' if total != 1 else ''} and objectives."
        )
    parts = []
    for count, word in (
        (len(result.created), "added"),
        (len(result.updated), "updated"),
        (len(result.removed), "removed"),
    ):
        if count:
            parts.append(f"{count} {word}")
    sentence = f"Imported into {title}: {', '.join(parts) or 'strategy details updated'}"
    if result.unchanged:
        sentence += f", {result.unchanged} unchanged"
    if result.kept:
        n = len(result.kept)
        sentence += (
            f"; kept {n} item{'s' if n != 1 else ''} the document no longer has, because "
            f"{'they carry' if n != 1 else 'it carries'} notes, indicators or milestones"
        )
    return sentence + "."


@login_required
@require_POST
def strategy_import_confirm(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Step 3: "Confirm" imports the previewed document; "Cancel" writes nothing.

    The document comes from the preview's signed payload (`strategy.forms`): a changed,
    expired or someone else's payload is refused with a message, and nothing is written.
    """
    try:
        mission = _import_mission(request, pk)
    except PermissionDenied as exc:
        return _forbidden(request, str(exc))
    if request.POST.get("action") == "cancel":
        messages.info(request, "Import cancelled: nothing was changed.")
        return redirect(_import_url(mission))

    strategies = list(mission.strategies.order_by("-created_at", "-pk")) if mission else None
    form = ImportConfirmForm(
        request.POST, user_id=request.user.pk, mission_id=mission.pk if mission else None
    )
    upload_form = ImportUploadForm(strategies=strategies)
    if not form.is_valid():
        return _import_form_page(
            request,
            mission=mission,
            form=upload_form,
            status=400,
            errors=form.errors["payload"],
        )
    data = form.cleaned_data["payload"]
    strategy = None
    if data["target"] != NEW_STRATEGY:
        strategy = next((s for s in strategies or [] if str(s.pk) == data["target"]), None)
        if strategy is None:
            return _import_form_page(
                request,
                mission=mission,
                form=upload_form,
                status=400,
                errors=["The strategy you chose no longer exists. Nothing was imported."],
            )
    try:
        result = services.strategy_import(
            document=data["document"], mission=mission, strategy=strategy, by=request.user
        )
    except PermissionDenied as exc:
        return _forbidden(request, str(exc))
    except ValidationError as exc:
        return _import_form_page(
            request, mission=mission, form=upload_form, status=400, errors=exc.messages
        )
    messages.success(request, _changes_summary(result))
    return redirect("strategy-detail", pk=result.strategy.pk)
