"""Chapter 5.3: DCGAN.

``--preset book`` trains the textbook's networks (see :mod:`genlab.gans.nets`, with its two
defects fixed) exactly as the book does: BCE, Adam 2e-4 with betas (0.5, 0.999), one
discriminator step and one generator step per batch, sampling from the trained generator.

The default (``quick`` / ``full``) is the classic lean DCGAN (transposed convolutions) at width 64,
several times cheaper per step than the book's networks, trained with the recipe of Mescheder et
al. (2018) and StyleGAN2: the non-saturating loss with an R1 gradient penalty on real images
(gamma 1, applied lazily every 4 steps) instead of spectral normalisation, learning rates five
and ten times the book's (G 1e-3, D 2e-3) that the penalty keeps stable, and samples from an
exponential moving average of the generator's weights. A cheap step buys a long schedule: the
quick preset spends its few CPU-minutes on one thread on steps, the full preset goes on where
the quick one stops. ``bench/bench_gan.py`` scores both along their runs against CPU-seconds,
beside the book's DCGAN trained its 30 epochs. Further options (the hinge loss with spectral
normalisation, DiffAugment ``augment``, the minibatch-stddev feature ``mbstd_group``, extra conv
layers ``g_blocks`` / ``d_blocks``, ``d_width``) are off by default; bench/README.md says how
they did.
"""

from __future__ import annotations

from dataclasses import dataclass

from genlab.errors import GenlabError
from genlab.gans.base import R1_RECIPE, GANConfig, GANRecipe, schedule
from genlab.gans.nets import BookDiscriminator, BookGenerator, ConvDiscriminator, ConvGenerator

ARCHS = ("conv", "book")


@dataclass
class DCGANConfig(GANConfig):
    arch: str = "conv"  # conv (genlab's default) | book (the textbook's networks)
    mbstd_group: int = 0  # > 0: minibatch standard deviation feature in D over groups of this many images (conv arch)


DEFAULT = {"width": 64, **R1_RECIPE}
BOOK = {
    "arch": "book",
    "z_dim": 100,
    "loss": "bce",
    "lr": 2e-4,
    "lr_d": 2e-4,
    "betas": (0.5, 0.999),
    "ema_decay": 0.0,
}


class DCGANRecipe(GANRecipe):
    name = "dcgan"
    Config = DCGANConfig
    presets = {
        "quick": {**DEFAULT, **schedule(3600, sample_every=300, eval_every=600)},
        "full": {**DEFAULT, **schedule(30000, sample_every=1000, eval_every=1000, ckpt_every=2000)},
        # the book's 30 epochs of the 4,000 training digits in batches of 64
        "book": {**BOOK, **schedule(30 * (4000 // 64), sample_every=155, eval_every=310)},
    }

    def make_nets(self):
        cfg = self.cfg
        if cfg.arch == "book":
            return BookGenerator(cfg.z_dim, cfg.channels, cfg.image_size), BookDiscriminator(
                cfg.channels, cfg.image_size
            )
        if cfg.arch == "conv":
            return (
                ConvGenerator(cfg.z_dim, cfg.channels, cfg.image_size, cfg.width, blocks=cfg.g_blocks),
                ConvDiscriminator(
                    cfg.channels,
                    cfg.image_size,
                    cfg.d_width or cfg.width,
                    spectral=cfg.spectral_norm,
                    mbstd_group=cfg.mbstd_group,
                    blocks=cfg.d_blocks,
                ),
            )
        raise GenlabError(f"unknown dcgan arch '{cfg.arch}'; choose one of: {', '.join(ARCHS)}")
