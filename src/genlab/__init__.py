"""genlab: generative models and advanced techniques, implemented for real."""

__version__ = "0.1.0"

from genlab.errors import GenlabError  # noqa: E402,F401
