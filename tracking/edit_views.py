"""Editing pages for managers: a node's title, owner, narrative and linkages; a
strategy's fields; and marking a note under review or approved as sensitive (or
publishable). "Sensitive" text is left out of the public-release version of the document.

Same shape as `tracking.views` (whose access helpers they share): the object is 404
unless the user can see it, a role the service refuses gets the 403 page, the form
(`tracking.edit_forms`) parses input and one service call writes it — `node_update`,
`strategy_update`, `note_mark_sensitive` — with the version the page was opened at, so
a stale form changes nothing and says so.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from strategy.concurrency import StaleVersion
from strategy.models import Role
from strategy.selectors import require_role, visible_strategies
from strategy.services import node_update, strategy_update
from tracking.edit_forms import NodeEditForm, NoteSensitiveForm, StrategyEditForm
from tracking.services import note_mark_sensitive
from tracking.views import _refusals, _visible_node, _visible_note

User = get_user_model()

STALE = (
    "Someone changed this {what} since you opened the page, so nothing was saved. "
    "Copy your changes, reload the page and apply them again."
)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@_refusals
def node_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Managers edit a node's title, owner, narrative (each part may be marked
    sensitive) and linkage tags. Queries: session, user, memberships, the node (with
    its strategy and mission), the mission's members."""
    user = request.user
    node = _visible_node(user, pk)
    require_role(user, node.strategy.mission_id, Role.MANAGER, "edit the strategy tree")
    members = list(
        User.objects.filter(
            memberships__mission_id=node.strategy.mission_id, is_active=True
        ).order_by("username")
    )
    data = request.POST if request.method == "POST" else None
    form = NodeEditForm(data, node=node, members=members)
    if data is not None and form.is_valid():
        before = node.version
        try:
            node_update(
                node=node,
                by=user,
                expected_version=form.cleaned_data["version"],
                **form.changes(),
            )
        except StaleVersion:
            form.add_error(None, STALE.format(what="item"))
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(
                request,
                f"Saved {node.label}."
                if node.version != before
                else f"Nothing changed: {node.label} already said this.",
            )
            return redirect("node-detail", pk=node.pk)
    status = 400 if data is not None else 200
    return render(
        request,
        "tracking/node_edit.html",
        {"node": node, "strategy": node.strategy, "form": form},
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@_refusals
def strategy_edit_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Managers edit a strategy's title, status, period, dates, freshness cadence,
    roll-up rule and Chief of Mission priorities (which may be marked sensitive).
    Queries: session, user, memberships, the strategy (with its mission)."""
    user = request.user
    strategy = get_object_or_404(visible_strategies(user=user), pk=pk)
    require_role(user, strategy.mission_id, Role.MANAGER, "edit strategies")
    data = request.POST if request.method == "POST" else None
    form = StrategyEditForm(data, strategy=strategy)
    if data is not None and form.is_valid():
        before = strategy.version
        try:
            strategy_update(
                strategy=strategy,
                by=user,
                expected_version=form.cleaned_data["version"],
                **form.changes(),
            )
        except StaleVersion:
            form.add_error(None, STALE.format(what="strategy"))
        except ValidationError as exc:
            form.apply_service_error(exc)
        else:
            messages.success(
                request,
                "Saved the strategy."
                if strategy.version != before
                else "Nothing changed: the strategy already said this.",
            )
            return redirect("strategy-detail", pk=strategy.pk)
    status = 400 if data is not None else 200
    return render(
        request,
        "tracking/strategy_edit.html",
        {"strategy": strategy, "form": form},
        status=status,
    )


@login_required
@require_POST
@_refusals
def note_sensitive_view(request: HttpRequest, pk: int) -> HttpResponse:
    """A manager marks a note under review or approved as sensitive, or as publishable
    again; only that flag changes. Back to the note page, with what happened."""
    user = request.user
    note = _visible_note(user, pk)
    form = NoteSensitiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether the note is sensitive or publishable.")
        return redirect("note-detail", pk=note.pk)
    sensitive = form.cleaned_data["sensitive"]
    try:
        note_mark_sensitive(
            note=note,
            sensitive=sensitive,
            by=user,
            expected_version=form.cleaned_data["version"],
        )
    except StaleVersion:
        messages.error(
            request, "The note changed since you opened the page: read it again, then decide."
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            "Marked sensitive: the note is left out of the public-release document."
            if sensitive
            else "Marked publishable: the note may appear in the public-release document.",
        )
    return redirect("note-detail", pk=note.pk)
