"""commonsabm: can the commons grow under austerity? An agent-based model of one place."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("commonsabm")
except PackageNotFoundError:  # running from a checkout without installing
    __version__ = "0.0.0+unknown"

from commonsabm.sim.model import CommonsModel  # noqa: E402

__all__ = ["CommonsModel", "__version__"]
