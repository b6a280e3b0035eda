"""The simulation: the model of one place, its actors, the money ledger and the monthly reporters.

Nothing here imports the layers above it (runs, analysis, explorer, the command line); see
``.importlinter`` and the README's architecture section.
"""
