"""The model's shared vocabulary: every module that names a status, a kind, a source of
income, a spending channel or a sector takes the name from here, so a name is spelt once.
"""

from __future__ import annotations

# Residents' employment, as the integer codes the citizen arrays hold.
FULL_TIME, PART_TIME, UNEMPLOYED, INACTIVE, RETIRED = range(5)
STATUSES = ("full_time", "part_time", "unemployed", "inactive", "retired")

# Who pays a worker: wages from the first two are individual; the last three pay a pool.
LOCAL_PRIVATE, OUTSIDE_FIRM, COUNCIL, PRIMES, COMMONS = range(5)
EMPLOYERS = ("local_private", "outside", "council", "primes", "commons")

# Commons organisations: their types, which of them trade, and their income by source.
KINDS = ("coop", "community_business", "vcs")
TRADING = ("coop", "community_business")
# Why an organisation closes (``CommonsOrganisation.fails``).
CAUSES = ("cash", "volunteers", "burnout")
SOURCES = ("trading", "donations", "grants", "contracts", "subcontracts", "loans")
# What public and commons lenders weigh as social value, by type (an assumption, see docs/ODD.md).
SOCIAL_VALUE = {"coop": 0.5, "community_business": 0.8, "vcs": 1.0}

# The council's spending channels and its revenue by source.
CHANNELS = ("in_house", "contracts", "grants", "commissioning", "scaling", "fund")
REVENUES = ("central_grant", "council_tax", "business_rates", "local_tax")

# The ledger's sectors; "outside" is central government, national chains and shareholders.
SECTORS = ("citizens", "commons", "council", "primes", "fund", "local_private", "outside")
# Local sectors for the multiplier and leakage; primes operate here but are firms from
# outside the place, so paying them is paying a non-local supplier (as in NEF's LM3).
LOCAL = ("citizens", "commons", "council", "fund", "local_private")

# Months of delivery that earn a commons bidder its full quality score (its quality starts at
# half and reaches full after two years), and over which a commons holder's contract failure
# hazard halves (an assumption, docs/ODD.md §7.5).
TRACK_RECORD_SPAN = 24

# Calendar conversions: payment terms are set in days and the model steps in months.
DAYS_PER_MONTH = 30.4  # 365.25 / 12, rounded as payment terms are quoted
WEEKS_PER_MONTH = 52 / 12
APRIL = 3  # month index % 12 of April, when the council's financial year starts


def months_for(days: float) -> int:
    """Whole months a payment of ``days`` days takes to arrive (0 = this month)."""
    return int(round(days / DAYS_PER_MONTH))
