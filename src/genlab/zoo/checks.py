"""The cheap metric of each zoo model, re-measured by ``genlab pretrained check`` and CI.

Every kind reuses the model's own evaluation code or genlab's metrics; a check is a dict
(stored in the manifest) with ``kind`` and its parameters:

- ``samples``: ``n`` images from ``recipe.sample`` (seeded; a conditional model, ``labels``, draws
  the digits 0..9 in turn) scored by :func:`genlab.metrics.quality.sample_quality`; ``metric`` is ``fid`` or
  ``label_acc`` (for text2image: the share of "a handwritten {digit}" images read as that digit);
- ``episodes``: mean return of ``n`` greedy episodes (``recipe.evaluate(episodes=n)``);
- ``fewshot``: accuracy (percent) over ``episodes`` held-out ``ways``-way ``shots``-shot episodes
  (``recipe.evaluate(ways=..., shots=..., episodes=...)``);
- ``zeroshot``: zero-shot accuracy of ``recipe.classify`` with the digits' names on the held-out split;
- ``reconstruction``: ``metric`` (e.g. ``recon_mse``) of :func:`genlab.metrics.reconstruction.reconstruction_metrics`
  on the held-out split.
"""

from __future__ import annotations

import torch

from genlab.errors import GenlabError

KINDS = ("samples", "episodes", "fewshot", "zeroshot", "reconstruction")


def describe(check: dict) -> str:
    """A short human name of what a check measures, e.g. "fid of 200 samples"."""
    kind = check["kind"]
    if kind == "samples":
        return f"{check['metric']} of {check['n']} samples"
    if kind == "episodes":
        return f"mean return of {check['n']} greedy episodes"
    if kind == "fewshot":
        return f"{check['ways']}-way {check['shots']}-shot accuracy (%) over {check['episodes']} episodes"
    if kind == "zeroshot":
        return "zero-shot accuracy on the held-out split"
    if kind == "reconstruction":
        return f"{check['metric']} on the held-out split"
    return kind


def measure(recipe, check: dict) -> float:
    """The value of ``check`` for a loaded recipe (deterministic for a given machine)."""
    from genlab.utils.runtime import seed_everything

    kind = check.get("kind")
    if kind not in KINDS:
        raise GenlabError(f"unknown zoo check kind {kind!r}; one of: {', '.join(KINDS)}")
    seed_everything(int(check.get("seed", 0)))
    recipe.train_mode(False)
    if kind == "samples":
        return _samples(recipe, check)
    if kind == "episodes":
        return float(recipe.evaluate(episodes=int(check["n"]))["mean_return"])
    if kind == "fewshot":
        kw = {"seed": int(check["seed"])} if "seed" in check else {}
        return float(
            recipe.evaluate(ways=int(check["ways"]), shots=int(check["shots"]), episodes=int(check["episodes"]), **kw)[
                "accuracy"
            ]
        )
    data = recipe.load_data()
    x, y = data.x_test.to(recipe.device), data.y_test.to(recipe.device)
    with torch.no_grad():
        if kind == "zeroshot":
            probs = recipe.classify(x, list(recipe.captioner.words))
            return float((probs.argmax(1).cpu() == y.cpu()).float().mean())
        from genlab.metrics.reconstruction import reconstruction_metrics

        return float(reconstruction_metrics(x, recipe.reconstruct(x), None)[check["metric"]])


def _samples(recipe, check: dict) -> float:
    from genlab.metrics.quality import sample_quality
    from genlab.train.recipe import in_chunks

    n = int(check["n"])
    g = torch.Generator().manual_seed(int(check.get("seed", 0)))
    with torch.no_grad():
        chunks = list(in_chunks(lambda k, _: recipe.sample(k, generator=g).cpu(), n, int(check.get("chunk", 250))))
    # a conditional model's sample(k) without a label draws the digits 0, 1, ..., 9, 0, ... in turn
    labels = torch.cat([torch.arange(len(c)) % 10 for c in chunks]) if check.get("labels") else None
    return float(sample_quality(torch.cat(chunks), labels=labels)[check["metric"]])


def within(value: float, reference: float, tolerance: float) -> bool:
    return abs(float(value) - float(reference)) <= float(tolerance)
