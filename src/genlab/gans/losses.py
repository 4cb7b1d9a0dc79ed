"""GAN losses as separate, swappable pieces.

Every discriminator in genlab returns raw scores (logits). A loss says how to turn the scores
on real and generated images into the discriminator's loss and the generator's loss, and
where the decision boundary between "real" and "fake" lies (for D's accuracy).

- ``bce``: the book's recipe, BCE with labels 1 (real) / 0 (fake) for D and label 1 for G's
  images; the book's final Sigmoid is folded into the loss (``*_with_logits``), which is the
  same function computed without overflow. G's part is the *non-saturating* loss, so ``ns``
  names the same pair.
- ``minimax``: the original saturating game, G minimises log(1 - D(G(z))). Its gradient
  vanishes while D wins, one of the three problems the book names; kept for demonstration.
- ``hinge``: D minimises relu(1 - real) + relu(1 + fake), G maximises D's score.
- ``lsgan``: least squares towards 1 / 0 (CycleGAN's choice).

``r1_penalty`` is the optional gradient penalty on real images (Mescheder et al. 2018).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from genlab.errors import GenlabError

Tensor = torch.Tensor


@dataclass(frozen=True)
class GANLoss:
    name: str
    d: Callable[[Tensor, Tensor], Tensor]  # (scores on real, scores on fake) -> D loss
    g: Callable[[Tensor], Tensor]  # scores on fake -> G loss
    threshold: float = 0.0  # a score above it means "real"

    def accuracies(self, real: Tensor, fake: Tensor) -> tuple[Tensor, Tensor]:
        """D's accuracy on real images and on generated images."""
        return (real > self.threshold).float().mean(), (fake <= self.threshold).float().mean()


def _bce_d(real, fake):
    return F.binary_cross_entropy_with_logits(real, torch.ones_like(real)) + F.binary_cross_entropy_with_logits(
        fake, torch.zeros_like(fake)
    )


def _bce_g(fake):
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


def _minimax_g(fake):
    return -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))


def _hinge_d(real, fake):
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def _lsgan_d(real, fake):
    return 0.5 * ((real - 1).pow(2).mean() + fake.pow(2).mean())


def _lsgan_g(fake):
    return 0.5 * (fake - 1).pow(2).mean()


LOSSES = {
    "bce": GANLoss("bce", _bce_d, _bce_g),
    "ns": GANLoss("ns", _bce_d, _bce_g),
    "minimax": GANLoss("minimax", _bce_d, _minimax_g),
    "hinge": GANLoss("hinge", _hinge_d, lambda fake: -fake.mean()),
    "lsgan": GANLoss("lsgan", _lsgan_d, _lsgan_g, threshold=0.5),
}


def get_loss(name: str) -> GANLoss:
    if name not in LOSSES:
        raise GenlabError(f"unknown GAN loss '{name}'; choose one of: {', '.join(LOSSES)}")
    return LOSSES[name]


def r1_penalty(real_scores: Tensor, real_images: Tensor) -> Tensor:
    """Mean squared norm of dD/dx on real images (``real_images`` must require grad)."""
    (grad,) = torch.autograd.grad(real_scores.sum(), real_images, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()
