"""Mixin for CommonsModel: residents and organisations by register slot.

Residents' memberships are register indices (``Citizens.org``, -1 for none); a slot is the
index + 1, so that slot 0 collects residents who belong to no organisation and a bincount
over slots counts every organisation at once. These are what volunteering reads (room,
usable hours, wear) and what it writes back (members, volunteers, hours).
"""

from __future__ import annotations

import numpy as np


class Membership:
    """The model's organisation-by-slot arrays (a mixin: ``self`` is the CommonsModel)."""

    def organisation_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Register index, neighbourhood and volunteer room of every live organisation."""
        live = self.orgs.live
        return (live.astype(np.int32), self.orgs.nbhd[live].astype(np.int32),
                self.orgs.room(self.config, live))

    def usable_by_slot(self) -> np.ndarray:
        """Hours each organisation can use this month, by register slot (index + 1); slot 0, for
        residents who belong to none, is unbounded (they give no hours anyway)."""
        usable = np.zeros(len(self.organisations) + 1)
        usable[0] = np.inf
        live = self.orgs.live
        usable[live + 1] = self.orgs.usable_hours(self.config, live)
        return usable

    def wear_by_slot(self) -> np.ndarray:
        """Each organisation's volunteers' further monthly chance of stopping, by register slot
        (index + 1; slot 0, residents who belong to none: 0): worn-out volunteers leave an
        organisation in proportion to its burnout."""
        burnout = np.zeros(len(self.organisations) + 1)
        live = self.orgs.live
        burnout[live + 1] = self.orgs.burnout[live]
        burnout *= self.config.behaviour.burnout_quit
        return burnout

    def wear(self) -> np.ndarray:
        """``wear_by_slot`` for each resident, by the organisation they belong to."""
        return self.wear_by_slot()[self.citizens.org + 1]

    def scratch(self, key: str, dtype) -> np.ndarray:
        """A resident-length scratch array kept for the run, so monthly passes that fill one
        with ``out=`` allocate nothing (and the heap does not grow after the first month)."""
        buffers = self.__dict__.setdefault("_scratch", {})
        if key not in buffers:
            buffers[key] = np.empty(self.citizens.n, dtype=dtype)
        return buffers[key]

    def count_members(self, offered: np.ndarray | None = None, givers: np.ndarray | None = None) -> None:
        """Each organisation's members, active volunteers, hours given and (after volunteering,
        ``offered`` by slot) hours offered.

        ``givers`` may name the active residents (ascending indices), the only ones with any
        hours, as ``Citizens.volunteer`` returns them: volunteers and hours are then counted over
        them alone. The numbers are the same (bincount adds in index order; adding zeros
        changes no sum)."""
        citizens = self.citizens
        size = len(self.organisations) + 1
        slot = self.scratch("slot", np.intp)  # slot 0 collects residents who belong to none
        np.add(citizens.org, 1, out=slot)
        orgs = self.orgs
        live = orgs.live
        if givers is None:
            hours = np.bincount(slot, weights=citizens.hours, minlength=size)
            volunteers = np.bincount(slot[citizens.active], minlength=size)
        else:
            giving = slot[givers]
            hours = np.bincount(giving, weights=citizens.hours[givers], minlength=size)
            volunteers = np.bincount(giving, minlength=size)
        offered = hours if offered is None else offered
        orgs.members[live] = np.bincount(slot, minlength=size)[live + 1]
        orgs.volunteers[live] = volunteers[live + 1]
        orgs.volunteer_hours[live] = hours[live + 1]
        orgs.hours_offered[live] = offered[live + 1]
