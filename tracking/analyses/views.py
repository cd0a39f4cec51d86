"""Pages of analysis documents: a strategy's analyses, "Add analysis", the analysis page
(ranked suggestions with highlighted passages, confirm and save links) and the small POST
forms that link, unlink and delete.

Thin like `tracking.views`: who sees what from `strategy.selectors`, data from
`tracking.analyses.selectors`, every write one `tracking.analyses.services` call. Analyses
of missions the user does not belong to are 404; a role the services refuse gets the 403
page. Nothing is linked unless a person ticked it and pressed "Save links".
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from strategy.models import Node, Role
from strategy.selectors import has_role, visible_strategies
from tracking.analyses.forms import AnalysisForm
from tracking.analyses.models import AnalysisDocument
from tracking.analyses.selectors import (
    analysis_review,
    strategy_analyses,
    suggestions,
    visible_analyses,
)
from tracking.analyses.services import (
    analysis_create,
    analysis_delete,
    analysis_link,
    analysis_unlink,
    check_upload_size,
)


def _refusals(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The 403 page, with the service's sentence, when a role is refused."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            return render(request, "tracking/forbidden.html", {"reason": str(exc)}, status=403)

    return wrapper


def _visible_document(request: HttpRequest, pk: int) -> AnalysisDocument:
    return get_object_or_404(visible_analyses(user=request.user), pk=pk)


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


@login_required
@require_safe
def analysis_list(request: HttpRequest, pk: int) -> HttpResponse:
    """The strategy's analyses, newest document first."""
    strategy = get_object_or_404(visible_strategies(user=request.user), pk=pk)
    return render(
        request,
        "tracking/analyses/list.html",
        {
            "strategy": strategy,
            "analyses": strategy_analyses(strategy=strategy),
            "can_add": has_role(request.user, strategy.mission_id, Role.ANALYST),
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
@_refusals
def analysis_create_page(request: HttpRequest, pk: int) -> HttpResponse:
    """Paste or upload an analysis; on success, its page with the suggestions."""
    strategy = get_object_or_404(visible_strategies(user=request.user), pk=pk)
    if not has_role(request.user, strategy.mission_id, Role.ANALYST):
        raise PermissionDenied("You need the analyst role to add analyses.")
    form = AnalysisForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        upload = data.pop("file", None)
        try:
            if upload:
                check_upload_size(size=upload.size or 0, file_name=upload.name or "")
            document = analysis_create(
                strategy=strategy,
                by=request.user,
                file_data=upload.read() if upload else None,
                file_name=upload.name if upload else "",
                **data,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(
                request, "Analysis added. Tick the goals and objectives it bears on, then save."
            )
            return redirect("analysis-detail", document.pk)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "tracking/analyses/form.html", {"strategy": strategy, "form": form}, status=status
    )


@login_required
@require_safe
def analysis_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The analysis: its confirmed links, the ranked suggestions with their passages, the
    form to confirm them (or add other nodes), and the full text."""
    document = _visible_document(request, pk)
    mission_id = document.strategy.mission_id
    can_link = has_role(request.user, mission_id, Role.ANALYST)
    can_edit = has_role(request.user, mission_id, Role.MANAGER) or (
        can_link and document.created_by_id == request.user.pk
    )
    review = analysis_review(document=document)
    return render(
        request,
        "tracking/analyses/detail.html",
        {
            "strategy": document.strategy,
            "document": document,
            "review": review,
            "other_nodes": [n for n in review.nodes if n.pk not in review.linked_ids],
            "can_link": can_link,
            "can_delete": can_edit,
        },
    )


@login_required
@require_POST
@_refusals
def analysis_links_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the ticked suggestions and the nodes added by hand as links."""
    document = _visible_document(request, pk)
    ids = {int(x) for x in request.POST.getlist("nodes") if x.isdigit() and len(x) < 19}
    nodes = list(Node.objects.filter(strategy_id=document.strategy_id, pk__in=ids))
    if not ids:
        messages.error(request, "Tick at least one goal or objective, or choose one below.")
        return redirect("analysis-detail", document.pk)
    if len(nodes) != len(ids):
        messages.error(request, "Some of the chosen items are not part of this strategy.")
        return redirect("analysis-detail", document.pk)
    # The score each node had when a person confirmed it (recomputed here, not trusted
    # from the form); nodes added by hand have none.
    scores = {
        s.node.pk: s.score
        for s in suggestions(strategy=document.strategy, text=document.text, limit=50)
    }
    try:
        made = analysis_link(document=document, nodes=nodes, by=request.user, scores=scores)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        if made:
            codes = ", ".join(link.node.code for link in made)
            messages.success(request, f"Linked to {codes}.")
        else:
            messages.info(request, "Those were linked already.")
    return redirect("analysis-detail", document.pk)


@login_required
@require_POST
@_refusals
def analysis_unlink_view(request: HttpRequest, pk: int, node_pk: int) -> HttpResponse:
    document = _visible_document(request, pk)
    node = get_object_or_404(Node, pk=node_pk, strategy_id=document.strategy_id)
    try:
        analysis_unlink(document=document, node=node, by=request.user)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, f"Link to {node.code} removed.")
    return redirect("analysis-detail", document.pk)


@login_required
@require_POST
@_refusals
def analysis_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    document = _visible_document(request, pk)
    strategy_id = document.strategy_id
    analysis_delete(document=document, by=request.user)
    messages.success(request, "Analysis deleted.")
    return redirect("analysis-list", strategy_id)
