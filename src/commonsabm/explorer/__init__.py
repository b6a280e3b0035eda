"""The explorer: the interactive page (``page``) and the command that serves it (``launcher``)."""
