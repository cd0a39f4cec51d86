"""Department-scale test data in set-based SQL (`manage.py generate_data`, the bench).

Scale 1 is 270 missions, each with one approved strategy of 5 mission goals, 15 mission
objectives (3 per goal), 30 sub-objectives (2 per objective) and 4 management objectives;
4 monthly indicators with 36 periods each and 10 approved notes (each linked to its node)
on every *objective* — read as every node below the goals plus the management objectives
(15 + 30 + 4 = 49 per strategy); a manager and three analysts per mission.

How: a few small helper tables (numbers, the 54-node layout of one strategy, 36 months,
500 days, a few thousand sentences made by a seeded random generator) are filled from
Python, then every big table is ONE `INSERT … SELECT` joining them, with explicit ids
(offsets from the table's current maximum) and an integer hash for every "random" choice.
The same SQL runs on PostgreSQL (fast: scale 1 in well under a minute) and SQLite (tiny
scales, for the test suite). Deterministic for a (seed, today) pair.

Bulk data has no django-simple-history rows: history describes what people did, and
generated data was done by nobody. Nothing reads history to compute statuses.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

MISSIONS_AT_SCALE_1 = 270
SLUG_PREFIX = "gen-"

# One strategy: (local index, kind, parent local index or None, code). Objectives carry
# indicators and notes; goals roll up from them.
GOALS, OBJECTIVES_PER_GOAL, SUBS_PER_OBJECTIVE, MANAGEMENT = 5, 3, 2, 4
INDICATORS_PER_OBJECTIVE = 4
PERIODS_PER_INDICATOR = 36
NOTES_PER_OBJECTIVE = 10
ANALYSTS_PER_MISSION = 3
MILESTONES_PER_MANAGEMENT_OBJECTIVE = 3

# Every "rare" word appears in about one note in RARE_EVERY * len(RARE_WORDS).
RARE_EVERY = 1000
COMMON_TERM = "trade"  # in the vocabulary's head: a large share of notes contain it


def _layout() -> list[tuple[int, str, int | None, str, str]]:
    """(local, kind, parent_local, code, sort_key) for the 54 nodes of one strategy."""
    rows: list[tuple[int, str, int | None, str, str]] = []
    for g in range(GOALS):
        rows.append((len(rows), "mission_goal", None, f"{g + 1}", f"G{g + 1:04d}"))
    goal_local = {g: g for g in range(GOALS)}
    objectives = []
    for g in range(GOALS):
        for o in range(OBJECTIVES_PER_GOAL):
            code = f"{g + 1}.{o + 1}"
            objectives.append((len(rows), code))
            rows.append(
                (len(rows), "mission_objective", goal_local[g], code, f"G{g + 1:04d}.{o + 1:04d}")
            )
    for obj_local, obj_code in objectives:
        for s in range(SUBS_PER_OBJECTIVE):
            g, o = (int(p) for p in obj_code.split("."))
            rows.append(
                (
                    len(rows),
                    "sub_objective",
                    obj_local,
                    f"{obj_code}.{s + 1}",
                    f"G{g:04d}.{o:04d}.{s + 1:04d}",
                )
            )
    for m in range(MANAGEMENT):
        rows.append((len(rows), "management_objective", None, f"{m + 1}", f"M{m + 1:04d}"))
    return rows


LAYOUT = _layout()
NODES_PER_STRATEGY = len(LAYOUT)  # 54
OBJECTIVES_PER_STRATEGY = sum(1 for r in LAYOUT if r[1] != "mission_goal")  # 49
INDICATORS_PER_STRATEGY = OBJECTIVES_PER_STRATEGY * INDICATORS_PER_OBJECTIVE
NOTES_PER_STRATEGY = OBJECTIVES_PER_STRATEGY * NOTES_PER_OBJECTIVE
USERS_PER_MISSION = 1 + ANALYSTS_PER_MISSION


def missions_for_scale(scale: float) -> int:
    return max(1, round(MISSIONS_AT_SCALE_1 * scale))


@dataclass
class Generated:
    missions: int
    strategies: int
    nodes: int
    indicators: int
    periods: int
    notes: int
    users: int
    first_mission_id: int


# --- Text --------------------------------------------------------------------------------

COMMON_WORDS = [
    "trade",
    "investment",
    "security",
    "health",
    "education",
    "energy",
    "climate",
    "governance",
    "cooperation",
    "partnership",
    "exports",
    "agriculture",
    "market",
    "reform",
    "capacity",
    "training",
    "program",
    "embassy",
    "consulate",
    "outreach",
    "exchange",
    "visa",
    "citizens",
    "support",
    "policy",
    "regional",
    "growth",
    "access",
    "infrastructure",
    "water",
    "finance",
    "law",
    "enforcement",
    "justice",
    "rights",
    "women",
    "youth",
    "digital",
    "cyber",
    "maritime",
    "border",
    "customs",
    "tariff",
    "supply",
    "chain",
    "resilience",
    "disaster",
    "response",
    "vaccine",
    "clinic",
    "school",
    "university",
    "scholarship",
    "alumni",
    "media",
    "press",
    "dialogue",
    "treaty",
]
_SYLLABLES = (
    "ka lo mi ne ru sa te vo bi da fe gu ho ji ko lu ma ni po qui ra si tu ve wa xo yu ze".split()  # noqa: SIM905
)


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words = list(COMMON_WORDS)
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def rare_words(seed: int, count: int = 200) -> list[str]:
    """Words that only the rare channel uses (each about one note in 200,000)."""
    rng = random.Random(f"rare-{seed}")  # noqa: S311 - test data, not secrets
    out: list[str] = []
    while len(out) < count:
        word = "q" + "".join(rng.choice(_SYLLABLES) for _ in range(4)) + "x"
        if word not in out:
            out.append(word)
    return out


def _sentences(seed: int, count: int = 4000) -> list[tuple[str, str]]:
    """(title, body) pairs with a Zipf-like word distribution: a few words are in most
    texts, most words in few."""
    rng = random.Random(f"text-{seed}")  # noqa: S311 - test data, not secrets
    vocab = _vocabulary(rng, 3000)
    weights = [1 / (rank + 1) for rank in range(len(vocab))]
    out = []
    for _ in range(count):
        title = " ".join(rng.choices(vocab, weights, k=rng.randint(3, 7))).capitalize()
        body = ". ".join(
            " ".join(rng.choices(vocab, weights, k=rng.randint(6, 14))).capitalize()
            for _ in range(rng.randint(2, 4))
        )
        out.append((title, body + "."))
    return out


# --- SQL ---------------------------------------------------------------------------------


def _h(expr: str, salt: int, seed: int, mod: int) -> str:
    """A deterministic pseudo-random integer in [0, mod) from an integer SQL expression."""
    return f"((({expr}) * 2654435761 + {seed * 7919 + salt * 104729}) %% 1000003 %% {mod})"


def _maxid(cursor, table: str) -> int:
    cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 - fixed names
    return int(cursor.fetchone()[0])


def _fill(cursor, table: str, columns: str, rows: list[tuple]) -> None:
    marks = ", ".join(["%s"] * len(rows[0]))
    cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)  # noqa: S608


def _helpers(cursor, *, seed: int, today: date, numbers: int) -> None:
    for name in ("gen_n", "gen_layout", "gen_month", "gen_day", "gen_text", "gen_rare"):
        cursor.execute(f"DROP TABLE IF EXISTS {name}")
    cursor.execute("CREATE TEMP TABLE gen_n (n integer PRIMARY KEY)")
    _fill(cursor, "gen_n", "n", [(i,) for i in range(numbers)])
    cursor.execute(
        "CREATE TEMP TABLE gen_layout (local integer PRIMARY KEY, kind varchar(30), "
        "parent_local integer, parent_kind varchar(30), code varchar(20), sort_key varchar(40), "
        "obj integer)"
    )
    kinds = {r[0]: r[1] for r in LAYOUT}
    objective = 0
    layout_rows = []
    for local, kind, parent, code, sort_key in LAYOUT:
        obj = None
        if kind != "mission_goal":
            obj, objective = objective, objective + 1
        layout_rows.append(
            (local, kind, parent, kinds[parent] if parent is not None else "", code, sort_key, obj)
        )
    _fill(
        cursor,
        "gen_layout",
        "local, kind, parent_local, parent_kind, code, sort_key, obj",
        layout_rows,
    )
    # 36 months: the last two are in the future (targets only).
    cursor.execute("CREATE TEMP TABLE gen_month (k integer PRIMARY KEY, ps date, pe date)")
    first = date(today.year, today.month, 1)
    months = []
    for k in range(PERIODS_PER_INDICATOR):
        back = PERIODS_PER_INDICATOR - 3 - k
        y, m = divmod(first.year * 12 + first.month - 1 - back, 12)
        start = date(y, m + 1, 1)
        y2, m2 = divmod(y * 12 + m + 1, 12)
        months.append((k, start, date(y2, m2 + 1, 1) - timedelta(days=1)))
    _fill(cursor, "gen_month", "k, ps, pe", months)
    cursor.execute("CREATE TEMP TABLE gen_day (d integer PRIMARY KEY, day date)")
    _fill(cursor, "gen_day", "d, day", [(d, today - timedelta(days=d)) for d in range(600)])
    cursor.execute("CREATE TEMP TABLE gen_text (i integer PRIMARY KEY, title text, body text)")
    _fill(cursor, "gen_text", "i, title, body", [(i, *t) for i, t in enumerate(_sentences(seed))])
    cursor.execute("CREATE TEMP TABLE gen_rare (i integer PRIMARY KEY, word text)")
    _fill(cursor, "gen_rare", "i, word", list(enumerate(rare_words(seed))))


TEXTS = 4000
RARES = 200


def _insert_notes(
    cursor,
    *,
    seed: int,
    now: datetime,
    first_note: int,
    first_link: int,
    source_sql: str,
) -> None:
    """Approved notes (+ one primary link each). `source_sql` yields rows
    (k, strategy_id, node_id, author_id, reviewer_id, stale, j) where k numbers the notes
    from 0 and j is the note's rank on its node (0 = newest)."""
    pick = _h("s.k", 11, seed, TEXTS)
    rare = _h("s.k", 12, seed, RARE_EVERY * RARES)
    assessment = _h("s.node_id", 8, seed, 20)  # the same draw as the indicators' temper
    cursor.execute(
        f"""
        INSERT INTO tracking_progressnote (id, strategy_id, author_id, title, body, body_html,
            assessment, justification, as_of, is_sensitive, state, submitted_at,
            reviewed_by_id, reviewed_at, review_comment, approved_at, supersedes_id, version,
            created_at, updated_at)
        SELECT {first_note} + s.k, s.strategy_id, s.author_id, t.title,
            t.body || COALESCE(' ' || r.word || '.', ''),
            '<p>' || t.body || COALESCE(' ' || r.word || '.', '') || '</p>',
            CASE WHEN {assessment} < 11 THEN 'on_track' WHEN {assessment} = 11 THEN 'achieved'
                 WHEN {assessment} < 16 THEN 'at_risk' WHEN {assessment} < 18 THEN 'off_track'
                 WHEN {assessment} = 18 THEN 'not_started' ELSE 'at_risk' END,
            '', d.day, FALSE, 'approved', %s, s.reviewer_id, %s, '', %s, NULL, 1, %s, %s
        FROM ({source_sql}) s
        JOIN gen_text t ON t.i = {pick}
        LEFT JOIN gen_rare r ON r.i * {RARE_EVERY} = {rare}
        JOIN gen_day d ON d.d = (s.j * 30 + {_h("s.node_id", 14, seed, 25)}
                                 + CASE WHEN s.stale = 1 THEN 120 ELSE 0 END) %% 600
        """,  # noqa: S608 - only integers are formatted in
        [now] * 5,
    )
    cursor.execute(
        f"""
        INSERT INTO tracking_notelink (id, note_id, node_id, is_primary)
        SELECT {first_link} + s.k, {first_note} + s.k, s.node_id, TRUE FROM ({source_sql}) s
        """,  # noqa: S608
        [],
    )


def generate(
    *,
    scale: float = 1.0,
    seed: int = 1,
    today: date | None = None,
    missions: int | None = None,
) -> Generated:
    """Add a department's worth of missions to the database (see the module docstring);
    `missions` overrides the count the scale gives (tests use two or six)."""
    today = today or timezone.localdate()
    now = timezone.now().replace(microsecond=0)
    missions = missions or missions_for_scale(scale)
    with transaction.atomic(), connection.cursor() as c:
        c.execute(
            "SELECT COUNT(*) FROM strategy_mission WHERE slug LIKE %s",
            [f"{SLUG_PREFIX}{seed}-%"],
        )
        if c.fetchone()[0]:
            raise ValueError(f"Data for seed {seed} is already here; use another seed or database.")
        _helpers(c, seed=seed, today=today, numbers=max(missions, NOTES_PER_OBJECTIVE, 64))
        ids = {
            t: _maxid(c, t)
            for t in (
                "auth_user",
                "strategy_mission",
                "strategy_membership",
                "strategy_strategy",
                "strategy_node",
                "strategy_milestone",
                "tracking_indicator",
                "tracking_indicatorperiod",
                "tracking_progressnote",
                "tracking_notelink",
            )
        }
        U, M, S, N = (
            ids["auth_user"] + 1,
            ids["strategy_mission"] + 1,
            ids["strategy_strategy"] + 1,
            ids["strategy_node"] + 1,
        )
        I, P = ids["tracking_indicator"] + 1, ids["tracking_indicatorperiod"] + 1  # noqa: E741
        mission_rows = f"SELECT n AS m FROM gen_n WHERE n < {missions}"  # noqa: S608
        c.execute(
            f"""
            INSERT INTO auth_user (id, password, last_login, is_superuser, username, first_name,
                last_name, email, is_staff, is_active, date_joined)
            SELECT {U} + m.m * {USERS_PER_MISSION} + r.n, '!', NULL, FALSE,
                'gen{seed}-' || m.m || CASE WHEN r.n = 0 THEN '-manager' ELSE '-analyst' || r.n END,
                CASE WHEN r.n = 0 THEN 'Manager' ELSE 'Analyst' END, 'M' || m.m,
                'gen{seed}-' || m.m || '-' || r.n || '@example.org', FALSE, TRUE, %s
            FROM ({mission_rows}) m JOIN gen_n r ON r.n < {USERS_PER_MISSION}
            """,  # noqa: S608
            [now],
        )
        c.execute(
            f"""
            INSERT INTO strategy_mission (id, name, country, slug, version, created_at)
            SELECT {M} + mm.m, 'Mission ' || mm.m || ': ' || t.title, 'Country ' || mm.m,
                '{SLUG_PREFIX}{seed}-' || mm.m, 1, %s
            FROM ({mission_rows}) mm JOIN gen_text t ON t.i = {_h("mm.m", 1, seed, TEXTS)}
            """,  # noqa: S608
            [now],
        )
        c.execute(
            f"""
            INSERT INTO strategy_membership (id, user_id, mission_id, role, created_at)
            SELECT {ids["strategy_membership"] + 1} + m.m * {USERS_PER_MISSION} + r.n,
                {U} + m.m * {USERS_PER_MISSION} + r.n, {M} + m.m,
                CASE WHEN r.n = 0 THEN 'manager' ELSE 'analyst' END, %s
            FROM ({mission_rows}) m JOIN gen_n r ON r.n < {USERS_PER_MISSION}
            """,  # noqa: S608
            [now],
        )
        c.execute(
            f"""
            INSERT INTO strategy_strategy (id, mission_id, title, kind, period_start_fy,
                period_end_fy, approved_on, reviewed_on, status, com_priorities,
                com_priorities_sensitive, freshness_days, rollup, version, created_at, updated_at)
            SELECT {S} + m.m, {M} + m.m, 'Integrated Country Strategy ' || m.m, 'ics',
                {today.year - 1}, {today.year + 2}, %s, %s, 'approved', t.body, FALSE, 90,
                CASE WHEN {_h("m.m", 2, seed, 4)} = 0 THEN 'own_first' ELSE 'worst' END, 1, %s, %s
            FROM ({mission_rows}) m JOIN gen_text t ON t.i = {_h("m.m", 3, seed, TEXTS)}
            """,  # noqa: S608
            [today - timedelta(days=400), today - timedelta(days=30), now, now],
        )
        node_id = f"{N} + m.m * {NODES_PER_STRATEGY} + l.local"
        c.execute(
            f"""
            INSERT INTO strategy_node (id, strategy_id, parent_id, kind, parent_kind, code,
                sort_key, title, description, justification, risks, description_sensitive,
                justification_sensitive, risks_sensitive, linkages, owner_id, version,
                created_at, updated_at)
            SELECT {node_id}, {S} + m.m,
                CASE WHEN l.parent_local IS NULL THEN NULL
                     ELSE {N} + m.m * {NODES_PER_STRATEGY} + l.parent_local END,
                l.kind, l.parent_kind, l.code, l.sort_key, t.title,
                CASE WHEN l.kind = 'mission_goal' THEN t.body ELSE '' END,
                CASE WHEN l.kind = 'mission_goal' THEN '' ELSE t.body END,
                '', FALSE, FALSE, FALSE, '[]',
                {U} + m.m * {USERS_PER_MISSION} + CASE WHEN l.kind = 'mission_goal' THEN 0
                    ELSE 1 + {_h("l.local", 4, seed, ANALYSTS_PER_MISSION)} END,
                1, %s, %s
            FROM ({mission_rows}) m CROSS JOIN gen_layout l
            JOIN gen_text t ON t.i = {_h(node_id, 5, seed, TEXTS)}
            ORDER BY 1
            """,  # noqa: S608
            [now, now],
        )
        obj_node = f"{N} + m.m * {NODES_PER_STRATEGY} + l.local"
        ind_index = f"(m.m * {OBJECTIVES_PER_STRATEGY} + l.obj) * {INDICATORS_PER_OBJECTIVE} + j.n"
        c.execute(
            f"""
            INSERT INTO tracking_indicator (id, node_id, name, definition, unit, direction,
                baseline_value, baseline_date, data_source, collection_method, frequency,
                cumulative_mode, owner_id, version, created_at, updated_at)
            SELECT {I} + {ind_index}, {obj_node},
                'Indicator ' || (j.n + 1) || ': ' || t.title, '', 'cases', 'increase', 0, NULL,
                'Mission records', '', 'monthly',
                CASE WHEN {_h(ind_index, 6, seed, 8)} = 0 THEN 'period_sum'
                     ELSE 'non_cumulative' END,
                {U} + m.m * {USERS_PER_MISSION} + 1 + j.n %% {ANALYSTS_PER_MISSION}, 1, %s, %s
            FROM ({mission_rows}) m CROSS JOIN gen_layout l
            JOIN gen_n j ON j.n < {INDICATORS_PER_OBJECTIVE}
            JOIN gen_text t ON t.i = {_h(ind_index, 7, seed, TEXTS)}
            WHERE l.obj IS NOT NULL
            ORDER BY 1
            """,  # noqa: S608
            [now, now],
        )
        # Periods: targets grow; actuals follow the indicator's "temper" (on track, at
        # risk, off track) for periods that ended; late indicators miss the last two.
        ind = f"(i.id - {I})"
        temper = _h("i.node_id", 8, seed, 20)
        c.execute(
            f"""
            INSERT INTO tracking_indicatorperiod (id, indicator_id, period_start, period_end,
                target, actual, comment, recorded_by_id, recorded_at, version, created_at,
                updated_at)
            SELECT v.id, v.indicator_id, v.ps, v.pe, v.target, v.actual, '',
                CASE WHEN v.actual IS NULL THEN NULL ELSE v.owner_id END,
                CASE WHEN v.actual IS NULL THEN NULL ELSE %s END, 1, %s, %s
            FROM (
                SELECT {P} + {ind} * {PERIODS_PER_INDICATOR} + mo.k AS id, i.id AS indicator_id,
                    mo.ps, mo.pe, i.owner_id, 10 + mo.k * (1 + {ind} %% 5) AS target,
                    CASE
                      WHEN mo.pe >= %s THEN NULL
                      WHEN {_h(ind, 9, seed, 12)} = 0 AND mo.pe >= %s THEN NULL
                      ELSE (10 + mo.k * (1 + {ind} %% 5))
                           * (CASE WHEN {temper} < 12 THEN 92 WHEN {temper} < 16 THEN 62
                                   WHEN {temper} < 18 THEN 30 ELSE 45 + (mo.k * 7) %% 60 END
                              + {_h(f"{ind} * 37 + mo.k", 10, seed, 15)}) / 100.0
                    END AS actual
                FROM tracking_indicator i CROSS JOIN gen_month mo
                WHERE i.id >= {I}
            ) v
            ORDER BY 1
            """,  # noqa: S608
            [now, now, now, today, today - timedelta(days=75)],
        )
        milestone_first = ids["strategy_milestone"] + 1
        c.execute(
            f"""
            INSERT INTO strategy_milestone (id, node_id, title, due_on, completed_on, owner_id,
                version, created_at, updated_at)
            SELECT {milestone_first} + (m.m * {MANAGEMENT} + l.local - {NODES_PER_STRATEGY - MANAGEMENT})
                    * {MILESTONES_PER_MANAGEMENT_OBJECTIVE} + j.n,
                {obj_node}, 'Milestone ' || (j.n + 1) || ': ' || t.title, d.day,
                CASE WHEN j.n = 0 THEN d.day END,
                {U} + m.m * {USERS_PER_MISSION}, 1, %s, %s
            FROM ({mission_rows}) m CROSS JOIN gen_layout l
            JOIN gen_n j ON j.n < {MILESTONES_PER_MANAGEMENT_OBJECTIVE}
            JOIN gen_text t ON t.i = {_h(f"{obj_node} * 3 + j.n", 15, seed, TEXTS)}
            JOIN gen_day d ON d.d = 200 - j.n * 60 + {_h(f"{obj_node} + j.n", 16, seed, 60)}
            WHERE l.kind = 'management_objective'
            """,  # noqa: S608
            [now, now],
        )
        # A quarter of the objectives are stale: their newest note is 120+ days old.
        note_source = f"""
            SELECT (m.m * {OBJECTIVES_PER_STRATEGY} + l.obj) * {NOTES_PER_OBJECTIVE} + j.n AS k,
                {S} + m.m AS strategy_id, {obj_node} AS node_id,
                {U} + m.m * {USERS_PER_MISSION} + 1 + j.n %% {ANALYSTS_PER_MISSION} AS author_id,
                {U} + m.m * {USERS_PER_MISSION} AS reviewer_id,
                CASE WHEN {_h(obj_node, 17, seed, 4)} = 0 THEN 1 ELSE 0 END AS stale,
                j.n AS j
            FROM ({mission_rows}) m CROSS JOIN gen_layout l
            JOIN gen_n j ON j.n < {NOTES_PER_OBJECTIVE}
            WHERE l.obj IS NOT NULL
        """  # noqa: S608
        _insert_notes(
            c,
            seed=seed,
            now=now,
            first_note=ids["tracking_progressnote"] + 1,
            first_link=ids["tracking_notelink"] + 1,
            source_sql=note_source,
        )
        _reset_sequences(c)
    _analyze()
    return Generated(
        missions=missions,
        strategies=missions,
        nodes=missions * NODES_PER_STRATEGY,
        indicators=missions * INDICATORS_PER_STRATEGY,
        periods=missions * INDICATORS_PER_STRATEGY * PERIODS_PER_INDICATOR,
        notes=missions * NOTES_PER_STRATEGY,
        users=missions * USERS_PER_MISSION,
        first_mission_id=M,
    )


def generate_notes(*, total: int, seed: int = 1, today: date | None = None) -> int:
    """Add approved notes to the generated strategies (spread evenly over their objective
    nodes) until there are `total` notes in all; for the search bench. Returns how many
    were added. On PostgreSQL the full-text index is dropped and rebuilt around the insert,
    which is much faster than maintaining it row by row."""
    today = today or timezone.localdate()
    now = timezone.now().replace(microsecond=0)
    with transaction.atomic(), connection.cursor() as c:
        c.execute("SELECT COUNT(*) FROM tracking_progressnote")
        missing = total - int(c.fetchone()[0])
        if missing <= 0:
            return 0
        c.execute(
            "SELECT n.id, n.strategy_id, m.user_id, r.user_id FROM strategy_node n "
            "JOIN strategy_strategy s ON s.id = n.strategy_id "
            "JOIN strategy_mission mi ON mi.id = s.mission_id "
            "JOIN strategy_membership m ON m.mission_id = mi.id AND m.role = 'analyst' "
            "JOIN strategy_membership r ON r.mission_id = mi.id AND r.role = 'manager' "
            "WHERE mi.slug LIKE %s AND n.kind <> 'mission_goal' "
            "ORDER BY n.id, m.user_id, r.user_id",
            [f"{SLUG_PREFIX}{seed}-%"],
        )
        seen, targets = set(), []
        for node, strategy, author, reviewer in c.fetchall():
            if node not in seen:
                seen.add(node)
                targets.append((len(targets), node, strategy, author, reviewer))
        if not targets:
            raise ValueError(f"No generated data for seed {seed}: run generate_data first.")
        _helpers(c, seed=seed, today=today, numbers=max(missing, 64))
        c.execute("DROP TABLE IF EXISTS gen_target")
        c.execute(
            "CREATE TEMP TABLE gen_target (t integer PRIMARY KEY, node_id integer, "
            "strategy_id integer, author_id integer, reviewer_id integer)"
        )
        _fill(c, "gen_target", "t, node_id, strategy_id, author_id, reviewer_id", targets)
        postgres = connection.vendor == "postgresql"
        index_sql = None
        if postgres:
            c.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'note_search_gin'")
            found = c.fetchone()
            if found:
                index_sql = found[0]
                c.execute("DROP INDEX note_search_gin")
        first_note = _maxid(c, "tracking_progressnote") + 1
        first_link = _maxid(c, "tracking_notelink") + 1
        source = f"""
            SELECT g.n AS k, t.strategy_id, t.node_id, t.author_id, t.reviewer_id,
                0 AS stale, {NOTES_PER_OBJECTIVE} + g.n / {len(targets)} %% 8 AS j
            FROM gen_n g JOIN gen_target t ON t.t = g.n %% {len(targets)}
            WHERE g.n < {missing}
        """  # noqa: S608
        _insert_notes(
            c,
            seed=seed + 1000,
            now=now,
            first_note=first_note,
            first_link=first_link,
            source_sql=source,
        )
        if index_sql:
            c.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run the deferred foreign-key checks
            c.execute(index_sql)
        _reset_sequences(c)
    _analyze()
    return missing


def _analyze() -> None:
    """Fresh statistics: without them PostgreSQL plans the tree queries as if the big
    tables were empty (seconds instead of milliseconds) until autovacuum catches up."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as c:
            for table in (
                "strategy_node",
                "strategy_milestone",
                "tracking_indicator",
                "tracking_indicatorperiod",
                "tracking_progressnote",
                "tracking_notelink",
            ):
                c.execute(f"ANALYZE {table}")


def _reset_sequences(cursor) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite's AUTOINCREMENT follows the largest id by itself
    for table in (
        "auth_user",
        "strategy_mission",
        "strategy_membership",
        "strategy_strategy",
        "strategy_node",
        "strategy_milestone",
        "tracking_indicator",
        "tracking_indicatorperiod",
        "tracking_progressnote",
        "tracking_notelink",
    ):
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
        )
