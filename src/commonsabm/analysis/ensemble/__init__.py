"""The ensemble verdict (issue 17): calibrated worlds, the debate over them, and scenario discovery.

A folder per stage, as SALib keeps one, sharing one contract (``problem``): the uncertain
parameters and their ranges, taken from the sensitivity analysis's list.
"""
