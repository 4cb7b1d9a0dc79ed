"""The model zoo: genlab's own trained models, shipped inside the package.

``pretrained:NAME`` is accepted wherever a run folder is (``genlab sample pretrained:ddpm``,
``genlab generate "a bold 7" --model pretrained:text2image``, ...): every command opens run folders
through :func:`genlab.train.runstore.require_run`, which calls :func:`resolve`. In Python::

    from genlab.zoo import from_pretrained
    ddpm = from_pretrained("ddpm")          # the recipe, as genlab.train.engine.load_run gives it
    images = ddpm.sample(16)

What is in the zoo and how each model was made is in ``manifest.json`` (``genlab pretrained
list|show``); ``genlab pretrained build`` retrains the models from scratch with the commands of
:data:`genlab.zoo.build.BUILD_SPEC` and ``genlab pretrained check`` re-measures them.
"""

from __future__ import annotations

from genlab.zoo.manifest import (  # noqa: F401
    MAX_TOTAL_BYTES,
    PREFIX,
    available,
    entry,
    is_pretrained,
    load_manifest,
    refuse_write,
    resolve,
    zoo_dir,
)


def from_pretrained(name: str, device: str = "cpu"):
    """The zoo model ``name`` loaded for inference (a recipe, in eval mode), its weights verified."""
    from genlab.train.engine import load_run

    return load_run(PREFIX + name, device=device)[0]
