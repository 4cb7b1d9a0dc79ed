"""Generators and discriminators for DCGAN and the conditional GAN.

Every network works for any channel count and any image size divisible by 4 (28, 32, 64, ...).
Generators map ``(z, y)`` to images in [-1, 1] (Tanh); discriminators map ``(x, y)`` to one raw
score per image (the loss applies any sigmoid). ``y`` (class labels) is used only by the
conditional networks and ignored otherwise.

- :class:`BookGenerator` / :class:`BookDiscriminator`: the textbook's DCGAN, with its two
  defects fixed: the final Linear's input size is measured on the real feature map (a 28x28
  image is 2x2 after four stride-2 convolutions, not 28 // 16 = 1), and the batch-norm
  argument 0.8 is a momentum, not an epsilon.
- :class:`ConvGenerator` / :class:`ConvDiscriminator`: genlab's default, a leaner DCGAN
  (transposed convolutions, spectral-normalised discriminator without dropout or batch norm),
  optionally class-conditional: the generator gets a label embedding next to z, the
  discriminator adds a projection term <embed(y), features(x)> (Miyato & Koyama 2018).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from genlab.errors import GenlabError

#: Keras' BatchNormalization(momentum=0.8) keeps 80% of the old running average per step,
#: which is PyTorch's momentum=0.2 (the weight of the new batch).
BOOK_BN_MOMENTUM = 0.2


def upsampling_plan(size: int) -> tuple[int, int]:
    """(base, n): the smallest side >= 4 reached by halving ``size`` exactly ``n >= 2`` times."""
    n = 0
    while size % 2 ** (n + 1) == 0 and size // 2 ** (n + 1) >= 4:
        n += 1
    if n < 2:
        raise GenlabError(
            f"image_size {size} is not supported by the GANs; use a multiple of 4 of at least 16 (28, 32, 64)"
        )
    return size // 2**n, n


def stage_widths(width: int, n: int, smallest: int = 16) -> list[int]:
    """n + 1 channel counts from the coarsest stage to the finest: width, width/2, ... (at least ``smallest``)."""
    return [max(width // 2**i, smallest) for i in range(n + 1)]


def measured_size(features: nn.Module, channels: int, size: int) -> int:
    """Number of features ``features`` produces for one image: measured, never guessed."""
    with torch.no_grad():
        return features(torch.zeros(1, channels, size, size)).numel()


class BookGenerator(nn.Module):
    """Linear(z -> 128*s*s), BN, Upsample, Conv 128->128, BN, LeakyReLU(0.2), Upsample,
    Conv 128->64, BN, LeakyReLU(0.2), Conv 64->C, Tanh, with s = image_size / 4."""

    def __init__(self, z_dim: int = 100, channels: int = 1, size: int = 28):
        super().__init__()
        if size % 4:
            raise GenlabError(f"the book's generator needs an image_size divisible by 4, got {size}")
        self.s = size // 4
        self.fc = nn.Linear(z_dim, 128 * self.s * self.s)
        self.net = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 128, 3, padding=1),
            nn.BatchNorm2d(128, momentum=BOOK_BN_MOMENTUM),
            nn.LeakyReLU(0.2),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 3, padding=1),
            nn.BatchNorm2d(64, momentum=BOOK_BN_MOMENTUM),
            nn.LeakyReLU(0.2),
            nn.Conv2d(64, channels, 3, padding=1),
            nn.Tanh(),
        )

    def forward(self, z, y=None):
        return self.net(self.fc(z).view(len(z), 128, self.s, self.s))


class BookDiscriminator(nn.Module):
    """Four blocks Conv(3, stride 2) + LeakyReLU(0.2) + Dropout2d(0.25) (+BN except the first),
    16-32-64-128 channels, then Linear -> one score (the book's Sigmoid lives in the BCE loss)."""

    def __init__(self, channels: int = 1, size: int = 28):
        super().__init__()
        layers: list[nn.Module] = []
        for i, (a, b) in enumerate(zip((channels, 16, 32, 64), (16, 32, 64, 128))):
            layers += [nn.Conv2d(a, b, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Dropout2d(0.25)]
            if i > 0:
                layers.append(nn.BatchNorm2d(b, momentum=BOOK_BN_MOMENTUM))
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(measured_size(self.features, channels, size), 1)

    def forward(self, x, y=None):
        return self.head(self.features(x)).squeeze(1)


class ClassBatchNorm2d(nn.Module):
    """Conditional batch norm: batch statistics shared, scale and shift looked up per class (starting at 1 and 0)."""

    def __init__(self, c: int, num_classes: int):
        super().__init__()
        self.bn = nn.BatchNorm2d(c, affine=False)
        self.gain, self.bias = nn.Embedding(num_classes, c), nn.Embedding(num_classes, c)
        nn.init.ones_(self.gain.weight)
        nn.init.zeros_(self.bias.weight)

    def forward(self, x, y):
        return self.bn(x) * self.gain(y)[:, :, None, None] + self.bias(y)[:, :, None, None]


class ConvGenerator(nn.Module):
    """z (+ label embedding) -> Linear -> width x base x base, BN, ReLU -> [ConvTranspose(4, stride 2), BN, ReLU]
    halving the channels at every doubling -> a last ConvTranspose to the image, Tanh (the classic DCGAN).
    ``blocks`` adds that many [Conv(3), BN, ReLU] layers at every stage below the image resolution
    (more depth where it is cheap). With ``class_bn`` (conditional networks) every BN also takes a
    per-class scale and shift."""

    def __init__(
        self,
        z_dim: int = 64,
        channels: int = 1,
        size: int = 28,
        width: int = 128,
        num_classes: int = 0,
        embed_dim: int = 32,
        class_bn: bool = False,
        blocks: int = 0,
    ):
        super().__init__()
        self.base, n = upsampling_plan(size)
        widths = stage_widths(width, n - 1)
        self.width0 = widths[0]
        self.embed = nn.Embedding(num_classes, embed_dim) if num_classes else None
        self.fc = nn.Linear(z_dim + (embed_dim if num_classes else 0), widths[0] * self.base**2, bias=False)
        norm = (lambda c: ClassBatchNorm2d(c, num_classes)) if class_bn and num_classes else nn.BatchNorm2d

        def refine(c: int) -> list[nn.Module]:
            return [m for _ in range(blocks) for m in (nn.Conv2d(c, c, 3, padding=1, bias=False), norm(c), nn.ReLU())]

        layers: list[nn.Module] = [norm(widths[0]), nn.ReLU(), *refine(widths[0])]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [nn.ConvTranspose2d(a, b, 4, stride=2, padding=1, bias=False), norm(b), nn.ReLU(), *refine(b)]
        self.net = nn.Sequential(*layers, nn.ConvTranspose2d(widths[-1], channels, 4, stride=2, padding=1), nn.Tanh())

    def forward(self, z, y=None):
        if self.embed is not None:
            z = torch.cat([z, self.embed(y)], 1)
        h = self.fc(z).view(len(z), self.width0, self.base, self.base)
        for layer in self.net:
            h = layer(h, y) if isinstance(layer, ClassBatchNorm2d) else layer(h)
        return h


def minibatch_stddev(h: torch.Tensor, group: int) -> torch.Tensor:
    """ProGAN/StyleGAN's minibatch standard deviation: append one feature map holding the average spread of
    the features within each image's group of ``group`` images, so the discriminator sees a batch without
    variety (mode collapse) and can penalise it. (As one extra number instead of a map it weighs too little
    in the spectral-normalised head, and the quick preset collapses.) The batch size must be
    divisible by the group (else the whole batch is one group)."""
    b, c, hh, ww = h.shape
    g = group if b % group == 0 and b >= group else b
    flat = h.reshape(g, b // g, -1)
    dev = flat - flat.mean(0)  # written out: torch's std(0) is 7x slower here
    spread = (dev.square().mean(0) + 1e-8).sqrt().mean(1)  # (b // g,)
    return torch.cat([h, spread.repeat(g)[:, None, None, None].expand(b, 1, hh, ww)], 1)


class ConvDiscriminator(nn.Module):
    """[Conv(4, stride 2), LeakyReLU(0.2)] doubling the channels up to ``width`` -> flatten -> Linear,
    spectral-normalised; ``blocks`` adds that many [Conv(3), LeakyReLU] layers after every downsampling;
    with ``num_classes`` a projection term <embed(y), features> joins the score."""

    def __init__(
        self,
        channels: int = 1,
        size: int = 28,
        width: int = 128,
        num_classes: int = 0,
        spectral: bool = True,
        classifier: bool = False,
        mbstd_group: int = 0,
        blocks: int = 0,
    ):
        super().__init__()
        _, n = upsampling_plan(size)
        widths = stage_widths(width, n - 1)[::-1]
        sn = spectral_norm if spectral else (lambda m: m)
        layers: list[nn.Module] = []
        for a, b in zip((channels, *widths[:-1]), widths):
            layers += [sn(nn.Conv2d(a, b, 4, stride=2, padding=1)), nn.LeakyReLU(0.2)]
            layers += [m for _ in range(blocks) for m in (sn(nn.Conv2d(b, b, 3, padding=1)), nn.LeakyReLU(0.2))]
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.mbstd_group = mbstd_group
        flat = measured_size(self.features, channels, size)
        if mbstd_group:  # one more feature map: the minibatch standard deviation (see minibatch_stddev)
            flat += flat // widths[-1]
        self.head = sn(nn.Linear(flat, 1))
        self.project = (
            nn.Embedding(num_classes, flat) if num_classes else None
        )  # no spectral norm: it would shrink the class signal
        self.classifier = nn.Linear(flat, num_classes) if classifier and num_classes else None

    def forward(self, x, y=None, with_logits: bool = False):
        """One score per image; with ``with_logits`` also the auxiliary classifier's class logits."""
        if self.mbstd_group:
            h = minibatch_stddev(self.features[:-1](x), self.mbstd_group).flatten(1)
        else:
            h = self.features(x)
        score = self.head(h).squeeze(1)
        if self.project is not None:
            score = score + (self.project(y) * h).sum(1)
        if with_logits:
            if self.classifier is None:
                raise GenlabError("this discriminator has no auxiliary classifier (build it with classifier=True)")
            return score, self.classifier(h)
        return score
