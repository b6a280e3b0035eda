"""commonsabm: can the commons grow under austerity? An agent-based model of one place."""

__all__ = ["CommonsModel", "__version__"]


def __getattr__(name: str):
    # both on first use, not on every `import commonsabm.<module>`: the model imports Mesa,
    # numpy and pandas, and the version reads the installed metadata (0.1 s), so reading a
    # sweep's records stays quick, and the command guards against Ctrl-C from its first moments
    if name == "CommonsModel":
        from commonsabm.sim.model import CommonsModel

        return CommonsModel
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("commonsabm")
        except PackageNotFoundError:  # running from a checkout without installing
            return "0.0.0+unknown"
    raise AttributeError(f"module 'commonsabm' has no attribute {name!r}")
