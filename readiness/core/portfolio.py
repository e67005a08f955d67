"""Many organizations at once: a consultant's client list or a company's sites.

Core layer, pure: tidy frames built from results documents (as :func:`assess` or the
batch runner produce them). The portfolio notebook shows them; plots read them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from .instrument import DIMENSIONS

__all__ = ["common_gaps", "dimension_table", "frequent_actions", "ranking", "summary", "trend_table"]


def ranking(docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per organization, best overall score first.

    Columns: ``org_id, name, industry, size_band, stage, respondents, overall, ci_low,
    ci_high, level, barrier, barrier_title, percentile, peer_n`` (barrier ``None``
    without a barrier; percentile and peer_n ``None`` without a benchmark).
    """
    rows = []
    for doc in docs:
        org, overall = doc["organization"], doc["overall"]
        bench = doc.get("benchmark") or {}
        ci = overall.get("ci") or [None, None]
        rows.append(
            {
                "org_id": org["id"],
                "name": org.get("name") or org["id"],
                "industry": org.get("industry"),
                "size_band": org.get("size_band"),
                "stage": org.get("stage"),
                "respondents": doc["respondents"]["n"],
                "overall": overall.get("score"),
                "ci_low": ci[0],
                "ci_high": ci[1],
                "level": overall.get("level"),
                "barrier": overall.get("barrier"),
                "barrier_title": ((doc.get("facets") or {}).get(overall.get("barrier")) or {}).get("title")
                if overall.get("barrier")
                else None,
                "percentile": overall.get("percentile"),
                "peer_n": bench.get("peer_n"),
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "org_id",
            "name",
            "industry",
            "size_band",
            "stage",
            "respondents",
            "overall",
            "ci_low",
            "ci_high",
            "level",
            "barrier",
            "barrier_title",
            "percentile",
            "peer_n",
        ],
    )
    frame = frame.sort_values(["overall", "org_id"], ascending=[False, True], na_position="last", kind="mergesort")
    frame.insert(0, "rank", range(1, len(frame) + 1))
    return frame.reset_index(drop=True)


def dimension_table(docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Long form: ``org_id, name, dimension, score`` for every organization and dimension."""
    rows = [
        {
            "org_id": doc["organization"]["id"],
            "name": doc["organization"].get("name") or doc["organization"]["id"],
            "dimension": d,
            "score": doc["dimensions"].get(d, {}).get("score"),
        }
        for doc in docs
        for d in DIMENSIONS
    ]
    return pd.DataFrame(rows, columns=["org_id", "name", "dimension", "score"])


def common_gaps(docs: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per facet: how many organizations fall short of target, by how much, and how often it is the barrier.

    Columns: ``facet, dimension, title, organizations, with_gap, mean_gap, mean_score, barrier``,
    sorted by ``with_gap`` then ``mean_gap`` (largest first). Gaps come from each
    document's plan; organizations without a plan count for scores only.
    """
    facets: dict[str, dict[str, Any]] = {}
    for doc in docs:
        gaps = (doc.get("plan") or {}).get("gaps", {})
        for facet, block in doc["facets"].items():
            entry = facets.setdefault(
                facet,
                {
                    "facet": facet,
                    "dimension": block.get("dimension"),
                    "title": block.get("title"),
                    "scores": [],
                    "gaps": [],
                    "barrier": 0,
                },
            )
            if block.get("score") is not None:
                entry["scores"].append(block["score"])
            if gaps.get(facet) is not None:
                entry["gaps"].append(gaps[facet])
        if doc["overall"].get("barrier") in facets:
            facets[doc["overall"]["barrier"]]["barrier"] += 1
    rows = []
    for entry in facets.values():
        positive = [g for g in entry["gaps"] if g > 0]
        rows.append(
            {
                "facet": entry["facet"],
                "dimension": entry["dimension"],
                "title": entry["title"],
                "organizations": len(entry["scores"]),
                "with_gap": len(positive),
                "mean_gap": sum(positive) / len(positive) if positive else 0.0,
                "mean_score": sum(entry["scores"]) / len(entry["scores"]) if entry["scores"] else None,
                "barrier": entry["barrier"],
            }
        )
    frame = pd.DataFrame(
        rows, columns=["facet", "dimension", "title", "organizations", "with_gap", "mean_gap", "mean_score", "barrier"]
    )
    return frame.sort_values(
        ["with_gap", "mean_gap", "facet"], ascending=[False, False, True], kind="mergesort"
    ).reset_index(drop=True)


def frequent_actions(docs: Sequence[Mapping[str, Any]], *, phase: int | None = 1) -> pd.DataFrame:
    """How many organizations have each action in their roadmap (in ``phase``, or any phase).

    Columns: ``action, title, organizations, share, mean_rank``, most frequent first.
    """
    counts: Counter[str] = Counter()
    titles: dict[str, str] = {}
    ranks: dict[str, list[int]] = {}
    for doc in docs:
        for item in doc.get("roadmap") or []:
            if phase is not None and item["phase"] != phase:
                continue
            counts[item["action"]] += 1
            titles[item["action"]] = item["title"]
            ranks.setdefault(item["action"], []).append(item["rank"])
    n = max(len(docs), 1)
    rows = [
        {
            "action": a,
            "title": titles[a],
            "organizations": c,
            "share": c / n,
            "mean_rank": sum(ranks[a]) / len(ranks[a]),
        }
        for a, c in counts.items()
    ]
    frame = pd.DataFrame(rows, columns=["action", "title", "organizations", "share", "mean_rank"])
    return frame.sort_values(
        ["organizations", "mean_rank", "action"], ascending=[False, True, True], kind="mergesort"
    ).reset_index(drop=True)


def summary(docs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Headline numbers: how many organizations, mean overall score, level counts, commonest barrier."""
    table = ranking(docs)
    barriers = table["barrier"].dropna()
    titles = dict(zip(table["barrier"], table["barrier_title"]))
    return {
        "organizations": len(table),
        "respondents": int(table["respondents"].sum()) if len(table) else 0,
        "mean_overall": float(table["overall"].mean()) if table["overall"].notna().any() else None,
        "levels": {str(k): int(v) for k, v in table["level"].value_counts().items()},
        "commonest_barrier": barriers.mode().iloc[0] if len(barriers) else None,
        "commonest_barrier_title": titles.get(barriers.mode().iloc[0]) if len(barriers) else None,
        "barrier_count": int((barriers == barriers.mode().iloc[0]).sum()) if len(barriers) else 0,
    }


def trend_table(history: pd.DataFrame) -> list[dict[str, Any]]:
    """One row per center of an assessment history: its first and latest wave, and the latest change.

    Parameters
    ----------
    history : DataFrame
        The recorded waves as ``readiness.load_history`` returns them (one row per wave,
        by organization then date, with ``change, change_low, change_high, change_real``).

    Returns
    -------
    list of dict
        ``org_id, name, waves`` (how many), ``series`` (``[(wave, date, overall, real)]``
        in time order, ``real`` when the change from the previous wave is real),
        ``first`` and ``latest`` (wave, score), ``change, ci_low, ci_high, real`` (the
        latest wave against the one before; None with a single wave). By name.
    """
    rows: list[dict[str, Any]] = []
    if history is None or len(history) == 0:
        return rows
    for org_id, part in history.groupby("org_id", sort=False):
        records = part.to_dict("records")
        last = records[-1]

        def number(value: Any) -> float | None:
            return None if value is None or pd.isna(value) else float(value)

        rows.append(
            {
                "org_id": org_id,
                "name": last.get("name") or org_id,
                "waves": len(records),
                "series": [
                    (r["wave"], r.get("date"), number(r["overall"]), bool(r.get("change_real"))) for r in records
                ],
                "first": (records[0]["wave"], number(records[0]["overall"])),
                "latest": (last["wave"], number(last["overall"])),
                "change": number(last.get("change")),
                "ci_low": number(last.get("change_low")),
                "ci_high": number(last.get("change_high")),
                "real": bool(last.get("change_real")) if len(records) > 1 else None,
            }
        )
    return sorted(rows, key=lambda r: (str(r["name"]).casefold(), str(r["org_id"])))
