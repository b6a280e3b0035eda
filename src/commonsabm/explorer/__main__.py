"""``python -m commonsabm.explorer``: serve the interactive page (see ``launcher``)."""

from commonsabm.explorer.launcher import main

main()
