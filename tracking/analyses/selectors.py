"""Reads of analysis documents: who sees which, the strategy's nodes as the ranker reads
them, suggestions for a text, and the links a node timeline or a report shows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, QuerySet

from strategy.models import Node, Strategy
from strategy.selectors import user_roles
from tracking.analyses.models import AnalysisDocument, AnalysisLink
from tracking.analyses.ranker import NodeText, Suggestion, rank
from tracking.models import Indicator


def visible_analyses(*, user) -> QuerySet[AnalysisDocument]:
    """Analyses of the user's missions (every member reads them), with strategy, who added
    them and their confirmed links (node, who confirmed)."""
    documents = AnalysisDocument.objects.select_related(
        "strategy__mission", "created_by"
    ).prefetch_related(
        Prefetch(
            "links",
            queryset=AnalysisLink.objects.select_related("node", "confirmed_by").order_by(
                "node__sort_key"
            ),
        )
    )
    if user.is_superuser:
        return documents
    return documents.filter(strategy__mission_id__in=list(user_roles(user)))


def strategy_analyses(*, strategy: Strategy) -> list[AnalysisDocument]:
    """The strategy's analyses, newest document first, each with `link_count`. One query."""
    return list(
        AnalysisDocument.objects.filter(strategy=strategy)
        .select_related("created_by")
        .annotate(link_count=Count("links"))
        .defer("text")
        .order_by("-document_date", "-id")
    )


def ranker_nodes(*, strategy: Strategy) -> tuple[list[NodeText], dict[int, Node]]:
    """The strategy's nodes as `ranker.rank` reads them (title, narrative, linkages,
    indicator names, ancestors' titles), and the nodes by id. Two queries."""
    nodes = list(Node.objects.filter(strategy=strategy).order_by("sort_key"))
    by_id = {n.id: n for n in nodes}
    indicators: dict[int, list[str]] = defaultdict(list)
    for node_id, name in Indicator.objects.filter(node__strategy=strategy).values_list(
        "node_id", "name"
    ):
        indicators[node_id].append(name)
    texts = []
    for n in nodes:
        ancestors, parent_id = [], n.parent_id
        while parent_id is not None and parent_id in by_id:
            ancestors.append(by_id[parent_id].title)
            parent_id = by_id[parent_id].parent_id
        texts.append(
            NodeText(
                key=n.id,
                code=n.code,
                title=n.title,
                description=n.description,
                justification=n.justification,
                risks=n.risks,
                linkages=tuple(str(x) for x in (n.linkages or [])),
                indicators=tuple(indicators[n.id]),
                ancestors=tuple(ancestors),
            )
        )
    return texts, by_id


@dataclass
class NodeSuggestion:
    """A ranked node with its supporting passages (`suggestion.passages`)."""

    node: Node
    suggestion: Suggestion

    @property
    def score(self) -> float:
        return self.suggestion.score


def suggestions(*, strategy: Strategy, text: str, limit: int = 8) -> list[NodeSuggestion]:
    """The strategy's nodes `text` bears on, best first. Stores nothing. Two queries."""
    texts, by_id = ranker_nodes(strategy=strategy)
    return [NodeSuggestion(node=by_id[s.key], suggestion=s) for s in rank(text, texts, limit=limit)]


def node_analyses(*, node: Node, limit: int = 50) -> list[AnalysisLink]:
    """Analyses confirmed for this node, newest confirmation first, with the document and
    who confirmed it (for the node page's timeline). One query."""
    return list(
        AnalysisLink.objects.filter(node=node)
        .select_related("document", "confirmed_by")
        .defer("document__text")
        .order_by("-confirmed_at", "-id")[:limit]
    )


def analyses_linked_between(
    *, strategy_ids: list[int], start: datetime, end: datetime
) -> list[AnalysisLink]:
    """Links confirmed in [start, end) on these strategies, with document, node and who
    confirmed — a report's "what changed". One query."""
    return list(
        AnalysisLink.objects.filter(
            document__strategy_id__in=strategy_ids, confirmed_at__gte=start, confirmed_at__lt=end
        )
        .select_related("document", "node", "confirmed_by")
        .defer("document__text")
        .order_by("confirmed_at", "document_id", "node__sort_key")
    )


@dataclass
class AnalysisReview:
    """What the analysis page shows: the confirmed links, the ranked suggestions (nodes
    already linked are marked, not hidden) and every node, for adding others by hand."""

    document: AnalysisDocument
    links: list[AnalysisLink]
    suggestions: list[NodeSuggestion]
    nodes: list[Node]
    linked_ids: set[int]


def analysis_review(*, document: AnalysisDocument, limit: int = 8) -> AnalysisReview:
    """The analysis page's data. Three queries: links, nodes, indicators. `document`
    comes from `visible_analyses` (links prefetched)."""
    links = list(document.links.all())
    texts, by_id = ranker_nodes(strategy=document.strategy)
    ranked = [
        NodeSuggestion(node=by_id[s.key], suggestion=s)
        for s in rank(document.text, texts, limit=limit)
    ]
    return AnalysisReview(
        document=document,
        links=links,
        suggestions=ranked,
        nodes=list(by_id.values()),
        linked_ids={link.node_id for link in links},
    )
