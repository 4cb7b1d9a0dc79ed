"""Chapter 5.3: DCGAN.

``--preset book`` trains the textbook's networks (see :mod:`genlab.gans.nets`, with its two
defects fixed) exactly as the book does: BCE, Adam 2e-4 with betas (0.5, 0.999), one
discriminator step and one generator step per batch, sampling from the trained generator.

The default (``quick`` / ``full``) is the classic lean DCGAN (transposed convolutions) at width 64,
several times cheaper per step than the book's networks, a spectral-normalised discriminator, the
hinge loss with the discriminator learning twice as fast (TTUR, lr_d 4e-4) and samples from an
exponential moving average of the generator's weights. A cheap step buys a long schedule: its
quality keeps rising with steps well past the point where the book's networks would have used
the same CPU time, so the quick preset spends its budget (a few CPU-minutes on one thread) on
steps. ``bench/bench_gan.py`` scores both along their runs against CPU-seconds. Further options
(DiffAugment ``augment``, the minibatch-stddev feature ``mbstd_group``, extra conv layers
``g_blocks`` / ``d_blocks``, ``d_width``) are off by default; bench/README.md says how they did.
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
    mbstd_group: int = 0  # > 0: minibatch standard deviation feature in D over groups of this many images (conv arch)


DEFAULT = {"width": 64, **TUNED}
BOOK = {
    "arch": "book",
    "z_dim": 100,
    "loss": "bce",
    "lr": 2e-4,
    "lr_d": 2e-4,
    "betas": (0.5, 0.999),
    "ema_decay": 0.0,
    "batch_size": 64,
}


class DCGANRecipe(GANRecipe):
    name = "dcgan"
    Config = DCGANConfig
    presets = {
        "quick": {**DEFAULT, "steps": 3600, "batch_size": 64, "sample_every": 300, "eval_every": 600},
        "full": {
            **DEFAULT,
            "steps": 20000,
            "batch_size": 64,
            "sample_every": 1000,
            "eval_every": 1000,
            "ckpt_every": 2000,
        },
        "book": {
            **BOOK,
            "steps": 30 * (4000 // 64),
            "sample_every": 155,
            "eval_every": 310,
        },  # the book's 30 epochs of the 4,000 digits
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
