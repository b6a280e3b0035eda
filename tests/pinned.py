"""The pinned run: a fixed configuration and seed whose summary numbers must not drift.

Optimisations keep these numbers identical; a change to a mechanism changes them on
purpose, and the commit that re-pins them says why:

    python tests/pinned.py --update
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PINNED = Path(__file__).resolve().parent / "data" / "pinned.json"
CONFIGS = {
    "baseline": {},
    "parker": {"ubi": "full", "ubi_start": "2011-01", "investment_fund": "present",
               "investment_fund_start": "2011-01", "commissioning": "scale_what_works",
               "commissioning_start": "2011-01"},
    "davies_bua": {"austerity": "reversed", "procurement": "reformed", "sanctions": "ended",
                   "ubi": "full", "ubi_start": "2011-01"},
}
COLUMNS = ("orgs_coop", "orgs_community_business", "orgs_vcs", "members", "volunteer_hours",
           "volunteering_rate", "commons_share_total", "commons_contract_share", "unmet_need",
           "employment_rate", "poverty_rate", "income_gini", "local_multiplier", "leakage",
           "council_spend_in_house", "council_spend_contracts", "prime_profit_out", "fund_outstanding")


def summarise(name: str) -> dict[str, float]:
    from commonsabm import CommonsModel

    model = CommonsModel(population=6000, start="2010-01", end="2015-12", rng=20101, **CONFIGS[name])
    model.run()
    frame = model.datacollector.get_model_vars_dataframe()
    out = {f"{col}@{when}": float(frame[col].iloc[i]) for col in COLUMNS
           for i, when in ((23, "2011-12"), (-1, "2015-12"))}
    out["organisations_ever"] = float(len(model.organisations))
    out["citizen_cash"] = float(model.citizens.cash.sum())
    out["council_cash"] = float(model.council.cash)
    return out


def main() -> None:
    if "--update" not in sys.argv:
        sys.exit(__doc__)
    PINNED.write_text(json.dumps({name: summarise(name) for name in CONFIGS}, indent=1, sort_keys=True))
    print(f"re-pinned {PINNED}")


if __name__ == "__main__":
    main()
