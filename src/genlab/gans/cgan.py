"""Chapter 5.3: the class-conditional GAN.

The generator reads a label embedding next to z (and, with ``class_bn``, a per-class scale and
shift in every batch norm); the discriminator is a projection discriminator (Miyato & Koyama
2018): score = psi(phi(x)) + <embed(y), phi(x)>, so it judges whether an image is a real example
*of that class*. With ``aux_weight`` > 0 it also has an auxiliary classifier on phi(x) (AC-GAN,
Odena et al. 2017), trained on real images only, whose cross-entropy on generated images joins
the generator's loss: with the projection alone, more samples are read as another digit (often
2/5/8 as 3 and 9 as 7). ``genlab sample RUN --label K`` draws
digit K; ``evaluate()`` adds ``label_acc``, how often the evaluator reads K in samples asked
for K.
"""

from __future__ import annotations

from dataclasses import dataclass

from genlab.gans.base import TUNED, GANConfig, GANRecipe, schedule
from genlab.gans.nets import ConvDiscriminator, ConvGenerator
from genlab.train.recipe import LABEL

#: genlab's tuned conditional training (presets quick/full): TUNED plus stronger conditioning
CONDITIONING = {**TUNED, "class_bn": True, "aux_weight": 0.5}


@dataclass
class CGANConfig(GANConfig):
    num_classes: int = 10
    embed_dim: int = 32  # size of the generator's label embedding
    class_bn: bool = False  # per-class scale and shift in every generator batch norm
    aux_weight: float = 0.0  # > 0: D also classifies real images, G is rewarded for its class (AC-GAN term)


class CGANRecipe(GANRecipe):
    name = "cgan"
    Config = CGANConfig
    conditional = True
    options = (LABEL,)
    presets = {
        # hinge + TTUR (the projection discriminator's loss), a per-class scale and shift in every generator
        # batch norm and an auxiliary classifier term (AC-GAN, weight 0.5) on top of the projection: each
        # addition raises the label accuracy and lowers the FID of the quick preset (figures: bench/README.md)
        "quick": {**CONDITIONING, **schedule(1500)},
        "full": {**CONDITIONING, **schedule(20000, sample_every=1000, eval_every=1000, ckpt_every=2000)},
        "book": {"z_dim": 100, "loss": "bce", "ema_decay": 0.0, **schedule(1500)},
    }

    def make_nets(self):
        cfg = self.cfg
        return (
            ConvGenerator(
                cfg.z_dim, cfg.channels, cfg.image_size, cfg.width, cfg.num_classes, cfg.embed_dim, cfg.class_bn
            ),
            ConvDiscriminator(
                cfg.channels,
                cfg.image_size,
                cfg.width,
                cfg.num_classes,
                cfg.spectral_norm,
                classifier=cfg.aux_weight > 0,
            ),
        )
