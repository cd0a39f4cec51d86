"""Which nodes of a strategy a long document bears on, and the passages that say so.

Pure and offline: no database, no network, no model to download. The caller hands over the
document's text and one `NodeText` per node (`tracking.analyses.selectors.ranker_nodes`
builds them from the database, `bench/eval_analyses.py` from the demo ICS); `rank` returns
`Suggestion`s, best first.

How (decisions/0027):
1. Every node becomes a weighted bag of stemmed words: its title counts most, then its
   narrative (description and linkages, justification, risks) and its indicators' names,
   then — faintly — its ancestors' titles, so an objective also answers to its goal's words.
2. Words are weighted with BM25 over the strategy's nodes: a word every node uses ("China",
   "Mission") weighs almost nothing, a word only one node uses weighs most.
3. The document is cut into passages (paragraphs; long ones into overlapping windows of
   words) and every passage is scored against every node it shares a word with.
4. A node's score is its best passage plus the mean of its next best ones plus a share of
   the whole document's score for it: one strong paragraph counts, steady attention counts
   more. Each suggestion keeps its best passages with the offsets of the words that matched,
   so a page can highlight them.

200 KB of text ranks in a few tens of milliseconds (docs/analyses.md has the figures).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

# --- words ---------------------------------------------------------------------------------

_WORD_RE = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['’][A-Za-z]+)?|[0-9]+[A-Za-z]*")

# Function words and the filler of official prose; domain words stay (BM25 weighs them).
STOP_WORDS = frozenset(
    """
    a about above after again against all almost also although am among an and any are
    around as at be because been before being below between both but by can could did do
    does doing done down during each either else enough even ever every few for from
    further had has have having he her here hers herself him himself his how however i if
    in into is it its itself just least less many may me might more most much must my
    myself neither no nor not now of off often on once one only or other others otherwise
    our ours ourselves out over own per perhaps rather same several shall she should since
    so some such than that the their theirs them themselves then there these they this
    those though through thus to too toward towards under until up upon us very via was
    we were what whatever when where whether which while who whom whose why will with
    within without would yet you your yours yourself
    s t ll re ve d m
    also another already still yes etc ie eg mr ms dr
    said says say saying made make makes making take takes taken took get gets got
    new year years month months week weeks day days time times first second third last
    next two three four five six seven eight nine ten
    ask asked asks give gives given gave keep keeps kept keeping raise raised raises raising
    carry carried carries carrying depend depends depended depending advance advanced
    come comes came coming go goes went going gone see sees saw seen want wants wanted
    need needs needed use used uses using show shows showed shown tell tells told
    put puts bring brings brought run runs ran move moves moved
    call calls called find finds found seem seems seemed try tries tried let lets
    look looks looked mean means meant become becomes became begin begins began begun
    remain remains remained continue continues continued include includes included
    well way ways thing things part parts lot lots kind sort
    """.split()  # noqa: SIM905 - a word list reads better as text
)

# Inflections first ("sanctions", "sanctioned" → "sanction"), then one derivational
# suffix ("sanction" → "sanct", like "sanctioning" → "sanction" → "sanct"), each only while
# at least three letters of stem remain.
_INFLECTIONS = (
    ("ies", "y"),
    ("ied", "y"),
    ("sses", "ss"),
    ("ings", ""),
    ("ing", ""),
    ("edly", ""),
    ("ed", ""),
    ("es", ""),
    ("s", ""),
)
_DERIVATIONS = (
    ("ational", "ate"),
    ("ization", "ize"),
    ("isation", "ize"),
    ("fulness", ""),
    ("ousness", ""),
    ("iveness", ""),
    ("ation", "ate"),
    ("ment", ""),
    ("ness", ""),
    ("ity", ""),
    ("ion", ""),
    ("ers", ""),
    ("er", ""),
    ("ory", ""),
    ("ive", ""),
    ("ize", ""),
    ("ise", ""),
    ("ese", ""),
    ("ly", ""),
)
_KEEP_ENDINGS = ("ss", "us", "is", "ous")


def _strip(w: str, rules: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    for suffix, replacement in rules:
        if w.endswith(suffix) and len(w) - len(suffix) >= 3:
            if suffix in ("s", "es") and w.endswith(_KEEP_ENDINGS):
                return w, ""
            return w[: -len(suffix)] + replacement, suffix
    return w, ""


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude English stem: "sanctions", "sanctioned" → "sanct"; "enforcement",
    "enforcing" → "enforc". It only needs to be consistent, not linguistic."""
    w = word.lower().replace("’", "'")
    if "'" in w:
        w = w.split("'", 1)[0]
    if len(w) <= 3 or w.isdigit():
        return w
    w, removed = _strip(w, _INFLECTIONS)
    if removed in ("ing", "ings", "ed", "edly") and w[-1] == w[-2] and w[-1] not in "lsz":
        w = w[:-1]  # "planned" → "plan", but "passed" → "pass"
    w, _ = _strip(w, _DERIVATIONS)
    if len(w) > 4 and w.endswith("e"):
        w = w[:-1]  # "enforce" → "enforc", like "enforcement"
    return w


def tokens(text: str) -> Iterable[tuple[str, int, int]]:
    """(stem, start, end) of every word of `text` that is not a stop word."""
    for match in _WORD_RE.finditer(text):
        word = match.group()
        lowered = word.lower()
        if lowered in STOP_WORDS or len(lowered) < 2:
            continue
        yield stem(lowered), match.start(), match.end()


def _bag(text: str) -> Counter[str]:
    return Counter(term for term, _, _ in tokens(text))


# --- nodes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeText:
    """What the ranker reads about one node. `key` is whatever the caller wants back (the
    node's id); `ancestors` are the titles of its parent, grandparent, …"""

    key: object
    code: str
    title: str
    description: str = ""
    justification: str = ""
    risks: str = ""
    linkages: Sequence[str] = ()
    indicators: Sequence[str] = ()
    ancestors: Sequence[str] = ()


# How much one word of each field counts in a node's bag.
FIELD_WEIGHTS = {
    "title": 2.0,
    "indicators": 1.0,
    "justification": 1.0,
    "description": 1.0,
    "risks": 0.7,
    "linkages": 0.5,
    "ancestors": 0.3,
}
K1, B = 1.2, 0.5  # BM25 over node bags (b low: goals are short, objectives long)
K3 = 1.2  # saturation of a word repeated within one passage


@dataclass
class _Index:
    keys: list[object]
    codes: list[str]
    # term → [(node index, BM25 weight of the term in that node)]
    postings: dict[str, list[tuple[int, float]]]


def _node_bag(node: NodeText) -> dict[str, float]:
    bag: dict[str, float] = defaultdict(float)
    parts = {
        "title": [node.title],
        "indicators": list(node.indicators),
        "justification": [node.justification],
        "description": [node.description],
        "risks": [node.risks],
        "linkages": list(node.linkages),
        "ancestors": list(node.ancestors),
    }
    for name, texts in parts.items():
        weight = FIELD_WEIGHTS[name]
        for text in texts:
            for term, count in _bag(text or "").items():
                bag[term] += weight * count
    return bag


def build_index(nodes: Sequence[NodeText]) -> _Index:
    bags = [_node_bag(n) for n in nodes]
    n = len(bags)
    lengths = [sum(b.values()) for b in bags]
    average = (sum(lengths) / n) if n else 1.0
    df: Counter[str] = Counter()
    for b in bags:
        df.update(b.keys())
    postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
    for i, b in enumerate(bags):
        norm = K1 * (1 - B + B * lengths[i] / (average or 1.0))
        for term, tf in b.items():
            idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
            postings[term].append((i, idf * tf * (K1 + 1) / (tf + norm)))
    return _Index(
        keys=[x.key for x in nodes], codes=[x.code for x in nodes], postings=dict(postings)
    )


# --- passages --------------------------------------------------------------------------------

WINDOW_WORDS = 120  # long paragraphs are read in windows of this many words …
WINDOW_STEP = 80  # … starting this many words apart (so they overlap)
MIN_PASSAGE_WORDS = 12  # shorter paragraphs (headings, bylines) join the next one
_PARAGRAPH_RE = re.compile(r"\n[ \t]*(?:\n[ \t]*)+|\f")


@dataclass
class _Passage:
    start: int
    end: int
    words: list[tuple[str, int, int]]  # (stem, start, end), offsets in the document


def passages(text: str) -> list[_Passage]:
    """Paragraphs of `text` (blank lines or form feeds between them), short ones joined to
    the next, long ones cut into overlapping windows. Offsets are into `text`."""
    spans: list[tuple[int, int]] = []
    position = 0
    for match in _PARAGRAPH_RE.finditer(text):
        spans.append((position, match.start()))
        position = match.end()
    spans.append((position, len(text)))

    out: list[_Passage] = []
    pending: list[tuple[str, int, int]] = []
    pending_start: int | None = None
    for start, end in spans:
        words = list(tokens(text[start:end]))
        if not words:
            continue
        words = [(t, start + s, start + e) for t, s, e in words]
        if pending_start is None:
            pending_start = start
        pending.extend(words)
        if len(pending) < MIN_PASSAGE_WORDS:
            continue
        out.extend(_windows(pending))
        pending, pending_start = [], None
    if pending:
        out.extend(_windows(pending))
    return out


def _windows(words: list[tuple[str, int, int]]) -> list[_Passage]:
    if len(words) <= WINDOW_WORDS + WINDOW_STEP // 2:
        return [_Passage(words[0][1], words[-1][2], words)]
    out = []
    for begin in range(0, len(words), WINDOW_STEP):
        chunk = words[begin : begin + WINDOW_WORDS]
        out.append(_Passage(chunk[0][1], chunk[-1][2], chunk))
        if begin + WINDOW_WORDS >= len(words):
            break
    return out


# --- ranking ---------------------------------------------------------------------------------


@dataclass
class Evidence:
    """One passage supporting a suggestion: `start`/`end` are offsets into the document,
    `marks` the (start, end) of each matched word, relative to `start`."""

    start: int
    end: int
    text: str
    score: float
    marks: list[tuple[int, int]] = field(default_factory=list)

    def segments(self) -> list[tuple[str, bool]]:
        """The passage as (text, is_match) pieces, for templates to wrap in <mark>."""
        out, position = [], 0
        for s, e in self.marks:
            if s > position:
                out.append((self.text[position:s], False))
            out.append((self.text[s:e], True))
            position = e
        if position < len(self.text):
            out.append((self.text[position:], False))
        return out


@dataclass
class Suggestion:
    key: object
    code: str
    score: float  # comparable within one document; higher is better
    relevance: int  # 0–100, relative to the best suggestion of this document
    terms: list[str]  # the document's words that matched, most telling first
    passages: list[Evidence]


TOP_PASSAGES = 3  # passages averaged, and shown, per node
DOCUMENT_SHARE = 0.35  # weight of the whole-document score in the final score
MIN_RELEVANCE = 0.2  # suggestions below this share of the best one are dropped


def rank(
    text: str,
    nodes: Sequence[NodeText],
    *,
    limit: int = 8,
    evidence: int = TOP_PASSAGES,
) -> list[Suggestion]:
    """The nodes `text` bears on, best first, at most `limit`, each with up to `evidence`
    supporting passages. Empty when the text shares no telling word with any node."""
    if not nodes or not text.strip():
        return []
    index = build_index(nodes)
    postings = index.postings
    chunks = passages(text)

    # Per node: each passage's score, and how much each term contributed overall.
    per_node: dict[int, list[tuple[float, int]]] = defaultdict(list)
    contributions: dict[int, Counter[str]] = defaultdict(Counter)
    document_tf: Counter[str] = Counter()
    for p_index, passage in enumerate(chunks):
        tf = Counter(t for t, _, _ in passage.words)
        document_tf.update(tf)
        scores: dict[int, float] = defaultdict(float)
        for term, count in tf.items():
            entries = postings.get(term)
            if not entries:
                continue
            q = count * (K3 + 1) / (count + K3)
            for node_i, weight in entries:
                scores[node_i] += q * weight
        for node_i, score in scores.items():
            per_node[node_i].append((score, p_index))

    # The whole document as one query: words repeated throughout count more, saturating.
    whole: dict[int, float] = defaultdict(float)
    for term, count in document_tf.items():
        entries = postings.get(term)
        if not entries:
            continue
        q = math.log1p(count)
        for node_i, weight in entries:
            whole[node_i] += q * weight
            contributions[node_i][term] += q * weight
    whole_scale = max(whole.values(), default=0.0)
    best_passage = max((s for lst in per_node.values() for s, _ in lst), default=0.0)

    ranked: list[tuple[float, int, list[tuple[float, int]]]] = []
    for node_i, scored in per_node.items():
        scored.sort(key=lambda x: -x[0])
        top = scored[:TOP_PASSAGES]
        rest = [s for s, _ in top[1:]]
        passage_part = top[0][0] + (sum(rest) / len(rest) if rest else 0.0) * 0.5
        document_part = (whole[node_i] / whole_scale) * best_passage if whole_scale else 0.0
        score = (1 - DOCUMENT_SHARE) * passage_part + DOCUMENT_SHARE * document_part
        ranked.append((score, node_i, top))
    ranked.sort(key=lambda x: (-x[0], index.codes[x[1]]))
    if not ranked or ranked[0][0] <= 0:
        return []
    best = ranked[0][0]

    out: list[Suggestion] = []
    for score, node_i, top in ranked[:limit]:
        if score < best * MIN_RELEVANCE:
            break
        telling = contributions[node_i]
        cutoff = max(telling.values(), default=0.0) * 0.08
        matched = {t for t, v in telling.items() if v >= cutoff}
        shown = []
        for p_score, p_index in sorted(top[:evidence], key=lambda x: chunks[x[1]].start):
            passage = chunks[p_index]
            marks = [
                (s - passage.start, e - passage.start) for t, s, e in passage.words if t in matched
            ]
            shown.append(
                Evidence(
                    start=passage.start,
                    end=passage.end,
                    text=text[passage.start : passage.end],
                    score=round(p_score, 3),
                    marks=marks,
                )
            )
        words = _surface_words(text, chunks, [p for _, p in top], matched, telling)
        out.append(
            Suggestion(
                key=index.keys[node_i],
                code=index.codes[node_i],
                score=round(score, 3),
                relevance=round(100 * score / best),
                terms=words,
                passages=shown,
            )
        )
    return out


def _surface_words(
    text: str,
    chunks: list[_Passage],
    passage_ids: list[int],
    matched: set[str],
    weight: Counter[str],
    most: int = 8,
) -> list[str]:
    """The matched terms as the document spells them (first spelling seen), heaviest first."""
    spelling: dict[str, str] = {}
    for p_index in passage_ids:
        for term, s, e in chunks[p_index].words:
            if term in matched and term not in spelling:
                spelling[term] = text[s:e].lower()
    ordered = sorted(spelling, key=lambda t: -weight[t])
    return [spelling[t] for t in ordered[:most]]
