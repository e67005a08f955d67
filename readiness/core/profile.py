"""What an organization profile may say: industries, size bands, stages and KPIs.

Core layer: the catalogue every other module reads (loaders validate against it, the
benchmark and the driver models use its KPI directions, and which KPIs are only context).
Declared once, here.
"""

from __future__ import annotations

__all__ = [
    "CONTEXT",
    "INDUSTRIES",
    "INDUSTRY_SYNONYMS",
    "KPIS",
    "KPI_DIRECTIONS",
    "KPI_NAMES",
    "RANKED_KPIS",
    "RATE_KPIS",
    "SIZE_BANDS",
    "STAGES",
    "kpi_name",
    "kpi_unit",
    "next_stage",
    "size_band",
]

#: Size bands of the 2007 study (000), by number of agents.
SIZE_BANDS: tuple[str, ...] = ("<=50", "51-150", "151-500", ">500")
#: Transition stages, least to most advanced.
STAGES: tuple[str, ...] = ("not_considering", "considering", "transitioning", "established")
#: The study's five industry groups. A profile's industry is one of these, or a synonym
#: below; anything else is refused (an unknown industry would silently match no peer and
#: fall back to all peers). ``other`` is for an industry outside the five.
INDUSTRIES: tuple[str, ...] = ("financial_services", "technology", "professional_services", "manufacturing", "other")
#: Other ways profiles write the five industries (compared after case folding, with
#: spaces, hyphens, slashes and ``&`` read as ``_``). Listed in docs/input-formats.md.
INDUSTRY_SYNONYMS: dict[str, str] = {
    "financial": "financial_services",
    "finance": "financial_services",
    "financial_service": "financial_services",
    "financials": "financial_services",
    "banking": "financial_services",
    "bank": "financial_services",
    "banks": "financial_services",
    "insurance": "financial_services",
    "banking_insurance": "financial_services",
    "banking_and_insurance": "financial_services",
    "tech": "technology",
    "high_tech": "technology",
    "hi_tech": "technology",
    "it": "technology",
    "information_technology": "technology",
    "software": "technology",
    "professional_service": "professional_services",
    "professional": "professional_services",
    "business_services": "professional_services",
    "consulting": "professional_services",
    "manufacturer": "manufacturing",
    "manufacturers": "manufacturing",
    "industrial": "manufacturing",
    "others": "other",
}

#: The direction of a KPI that is shown beside peers but never ranked: no "better" way.
CONTEXT = "context"

#: Operational KPIs a profile may carry: name -> (better when, lowest, highest, unit).
#: "Better when" is ``higher``, ``lower`` or :data:`CONTEXT`. Handle time is context: the
#: sources want it watched for planning and cost but call chasing it the opposite of
#: engaging a customer (``000``); cutting it is no aim, and a center that leads its calls
#: keeps it in check (``004``). So it is shown with its peers, and neither ranked nor fed
#: to the driver models' impact weights.
KPIS: dict[str, tuple[str, float, float, str]] = {
    "sales_conversion_rate": ("higher", 0.0, 100.0, "%"),
    "revenue_per_call": ("higher", 0.0, 1e6, "currency"),
    "first_call_resolution": ("higher", 0.0, 100.0, "%"),
    "customer_satisfaction": ("higher", 0.0, 100.0, "%"),
    "service_level": ("higher", 0.0, 100.0, "%"),
    "average_handle_time": (CONTEXT, 0.0, 36000.0, "seconds"),
    "abandon_rate": ("lower", 0.0, 100.0, "%"),
    "agent_attrition": ("lower", 0.0, 500.0, "% a year"),
}
KPI_DIRECTIONS: dict[str, str] = {name: spec[0] for name, spec in KPIS.items()}
#: The KPIs with a better direction: ranked against peers (standing, quartile) and used
#: by the driver models' impact weights.
RANKED_KPIS: tuple[str, ...] = tuple(name for name, direction in KPI_DIRECTIONS.items() if direction != CONTEXT)
#: KPIs given in percent: a value between 0 and 1 there is most likely a fraction
#: (0.85 for 85 %), which the loader refuses unless it is written with ``%``.
RATE_KPIS: frozenset[str] = frozenset(name for name, spec in KPIS.items() if spec[3].startswith("%"))
#: The KPIs as people name them, for reports, workbooks and tables.
KPI_NAMES: dict[str, str] = {
    "sales_conversion_rate": "Sales conversion rate",
    "revenue_per_call": "Revenue per call",
    "first_call_resolution": "First-call resolution",
    "customer_satisfaction": "Customer satisfaction",
    "service_level": "Service level",
    "average_handle_time": "Average handle time",
    "abandon_rate": "Abandon rate",
    "agent_attrition": "Agent attrition",
}


def kpi_name(kpi: str) -> str:
    """A KPI's name as people read it (an unknown KPI: its id in words)."""
    return KPI_NAMES.get(kpi) or kpi.replace("_", " ").capitalize()


def kpi_unit(kpi: str) -> str:
    """A KPI's unit: ``%``, ``% a year``, ``seconds``, ``currency``, or empty when unknown."""
    return KPIS[kpi][3] if kpi in KPIS else ""


def size_band(agents: float) -> str:
    """The published size band for a headcount of agents."""
    if agents <= 50:
        return "<=50"
    if agents <= 150:
        return "51-150"
    if agents <= 500:
        return "151-500"
    return ">500"


def next_stage(stage: str | None) -> str | None:
    """The stage one step further along :data:`STAGES`; ``established`` stays.

    A missing or unknown stage has no next one (``None``): it cannot be placed on the path.

    >>> next_stage("considering"), next_stage("established"), next_stage(None)
    ('transitioning', 'established', None)
    """
    if stage not in STAGES:
        return None
    return STAGES[min(STAGES.index(stage) + 1, len(STAGES) - 1)]
