"""genlab: generative models and advanced techniques, implemented for real."""

__version__ = "0.1.0"

from genlab.errors import GenlabError  # noqa: E402,F401


def __getattr__(name: str):
    """``genlab.from_pretrained`` without importing torch at ``import genlab``: loaded on first use
    by import string (as the registry loads recipes), so the core layer names no higher module."""
    if name == "from_pretrained":
        import importlib

        return importlib.import_module("genlab.zoo").from_pretrained
    raise AttributeError(f"module 'genlab' has no attribute {name!r}")
