"""Chapter 5.3: DCGAN.

``--preset book`` trains the textbook's networks (see :mod:`genlab.gans.nets`, with its two
defects fixed) exactly as the book does: BCE, Adam 2e-4 with betas (0.5, 0.999), one
discriminator step and one generator step per batch, sampling from the trained generator.

The default (``quick`` / ``full``) is the classic lean DCGAN (transposed convolutions) at width 64,
7.4x cheaper per step than the book's networks, a spectral-normalised discriminator, the
hinge loss with the discriminator learning twice as fast (TTUR, lr_d 4e-4) and samples from an
exponential moving average of the generator's weights. ``bench/bench_gan.py`` compares the two at
equal CPU time: the default reaches a clearly lower evaluator-FID than the book's networks, both
covering all 10 digits (width 128 with the non-saturating loss only tied the book); figures in bench/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from genlab.errors import GenlabError
from genlab.gans.base import TUNED, GANConfig, GANRecipe
from genlab.gans.nets import BookDiscriminator, BookGenerator, ConvDiscriminator, ConvGenerator

ARCHS = ("conv", "book")


@dataclass
class DCGANConfig(GANConfig):
    arch: str = "conv"  # conv (genlab's default) | book (the textbook's networks)


DEFAULT = {"width": 64, **TUNED}
BOOK = {"arch": "book", "z_dim": 100, "loss": "bce", "lr": 2e-4, "lr_d": 2e-4, "betas": (0.5, 0.999), "ema_decay": 0.0, "batch_size": 64}


class DCGANRecipe(GANRecipe):
    name = "dcgan"
    Config = DCGANConfig
    presets = {
        "quick": {**DEFAULT, "steps": 1500, "batch_size": 64, "sample_every": 100, "eval_every": 250},
        "full": {**DEFAULT, "steps": 20000, "batch_size": 64, "sample_every": 1000, "eval_every": 1000, "ckpt_every": 2000},
        "book": {**BOOK, "steps": 1500, "sample_every": 100, "eval_every": 250},
    }

    def make_nets(self):
        cfg = self.cfg
        if cfg.arch == "book":
            return BookGenerator(cfg.z_dim, cfg.channels, cfg.image_size), BookDiscriminator(cfg.channels, cfg.image_size)
        if cfg.arch == "conv":
            return (ConvGenerator(cfg.z_dim, cfg.channels, cfg.image_size, cfg.width, blocks=cfg.g_blocks),
                    ConvDiscriminator(cfg.channels, cfg.image_size, cfg.d_width or cfg.width, spectral=cfg.spectral_norm, blocks=cfg.d_blocks))
        raise GenlabError(f"unknown dcgan arch '{cfg.arch}'; choose one of: {', '.join(ARCHS)}")
