"""The swappable stages of the text-to-image system, as plain ``nn.Module``\\ s.

- text embedding -> image: :class:`TextCVAE` (a VAE whose encoder and decoder both see the CLIP
  text embedding) or :class:`PriorVAE` (an unconditional VAE plus a learned Gaussian prior
  p(z | text), the DALL-E 2 idea); both expose ``loss(x, c)``, ``generate(c, generator)`` and
  ``reconstruct(x, c, generator)``;
- :class:`Refiner`: image-to-image residual conv net (CycleGAN's ResNet generator) that turns a
  blurry VAE image into a sharp one; trained adversarially with a content term;
- :class:`TextUNet`: genlab's diffusion U-Net with its label embedding replaced by a projection
  of the CLIP text embedding; the zero vector is the "no text" condition for classifier-free
  guidance, so genlab.diffusion's ``Denoiser`` and samplers work unchanged.

Every ``c`` here is a batch of L2-normalised CLIP text embeddings (N, D).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genlab.autoencoders.losses import elbo_loss, gaussian_log_prob
from genlab.autoencoders.nets import mlp, reparameterize
from genlab.autoencoders.vae import VAE
from genlab.diffusion.unet import UNet
from genlab.errors import GenlabError
from genlab.gans.cyclegan import ResnetGenerator

MAPPERS = ("cvae", "prior")


def _noise(n: int, dim: int, generator, device) -> torch.Tensor:
    return torch.randn(n, dim, generator=generator).to(device)


class TextCVAE(nn.Module):
    """Conditional VAE on the text embedding: q(z | x, c), p(x | z, c), prior N(0, I).

    The CLIP embedding is a unit vector, so each of its ``cond_dim`` coordinates is about
    1/sqrt(cond_dim) while each coordinate of z is about 1: concatenated as they are, the decoder
    learns to lean on z, and z soaks up the digit too (some prior samples then draw another digit
    than the text asks for). The embedding enters both nets scaled by sqrt(cond_dim), to the scale
    of z; the decoder then takes the digit from the text and the style from z.
    """

    def __init__(
        self, shape, cond_dim: int, latent_dim: int = 16, arch: str = "mlp", hidden=(512, 512), width: int = 32
    ):
        super().__init__()
        self.latent_dim = latent_dim
        self.cond_scale = math.sqrt(cond_dim)
        self.vae = VAE(shape, latent_dim, arch, tuple(hidden), width, n_classes=cond_dim)

    def loss(self, x, c, beta: float = 1.0) -> dict:
        c = c * self.cond_scale
        mu, logvar = self.vae.encode(x, c)
        return elbo_loss(self.vae.decode(reparameterize(mu, logvar), c), x, mu, logvar, beta)

    def generate(self, c, generator=None, temperature: float = 1.0):
        z = temperature * _noise(len(c), self.latent_dim, generator, c.device)
        return self.vae.decode(z, c * self.cond_scale)

    def reconstruct(self, x, c, generator=None):
        """Decode a posterior sample z ~ q(z | x, c): the blur of a VAE on a known image."""
        c = c * self.cond_scale
        mu, logvar = self.vae.encode(x, c)
        return self.vae.decode(reparameterize(mu, logvar, generator), c)


class PriorVAE(nn.Module):
    """Unconditional VAE and a learned prior p(z | c) = N(mu(c), sigma(c)^2), fitted by maximum
    likelihood to the posterior samples of the paired images (gradient stopped at z)."""

    def __init__(
        self,
        shape,
        cond_dim: int,
        latent_dim: int = 16,
        arch: str = "mlp",
        hidden=(512, 512),
        width: int = 32,
        prior_hidden: int = 256,
    ):
        super().__init__()
        self.latent_dim = latent_dim
        self.vae = VAE(shape, latent_dim, arch, tuple(hidden), width)
        self.prior = mlp([cond_dim, prior_hidden, prior_hidden, 2 * latent_dim])

    def prior_params(self, c):
        mu, logvar = self.prior(c).chunk(2, dim=1)
        return mu, logvar.clamp(-10.0, 4.0)

    def loss(self, x, c, beta: float = 1.0) -> dict:
        mu, logvar = self.vae.encode(x)
        z = reparameterize(mu, logvar)
        terms = elbo_loss(self.vae.decode(z), x, mu, logvar, beta)
        prior_nll = -gaussian_log_prob(z.detach(), *self.prior_params(c)).mean()
        return {**terms, "loss": terms["loss"] + prior_nll, "prior_nll": prior_nll}

    def generate(self, c, generator=None, temperature: float = 1.0):
        mu, logvar = self.prior_params(c)
        return self.vae.decode(
            mu + temperature * (0.5 * logvar).exp() * _noise(len(c), self.latent_dim, generator, c.device)
        )

    def reconstruct(self, x, c, generator=None):
        mu, logvar = self.vae.encode(x)
        return self.vae.decode(reparameterize(mu, logvar, generator))


def make_mapper(
    kind: str, shape, cond_dim: int, latent_dim: int, arch: str = "mlp", hidden=(512, 512), width: int = 32
) -> nn.Module:
    """The text-embedding-to-image stage; ``arch`` and sizes as in genlab.autoencoders (mlp | conv)."""
    if kind == "cvae":
        return TextCVAE(shape, cond_dim, latent_dim, arch, hidden, width)
    if kind == "prior":
        return PriorVAE(shape, cond_dim, latent_dim, arch, hidden, width)
    raise GenlabError(f"mapper={kind!r} is unknown; choose one of: {', '.join(MAPPERS)}")


class Refiner(nn.Module):
    """Image in [0, 1] -> sharper image in [0, 1]: CycleGAN's ResNet generator (7x7 conv, one
    stride-2 stage, residual blocks, transposed conv, Tanh) applied in [-1, 1]."""

    def __init__(self, channels: int = 1, width: int = 16, res_blocks: int = 2):
        super().__init__()
        self.net = ResnetGenerator(channels, width, res_blocks)

    def forward(self, base):
        return (self.net(base * 2 - 1) + 1) / 2


class TextUNet(UNet):
    """genlab's U-Net conditioned on a text embedding instead of a class label.

    The U-Net adds ``label_embed(labels)`` to its time embedding; here that module is an MLP
    on the (N, cond_dim) text embedding, and ``null_labels`` returns zero embeddings, the
    "no text" condition that classifier-free guidance mixes with.
    """

    def __init__(
        self,
        cond_dim: int,
        channels: int = 1,
        base_channels: int = 16,
        channel_mults=(1, 2, 2),
        num_res_blocks: int = 1,
        attention: bool = True,
    ):
        super().__init__(channels, base_channels, tuple(channel_mults), num_res_blocks, attention, num_classes=1)
        emb_dim = 4 * base_channels
        self.cond_dim = cond_dim
        self.label_embed = nn.Sequential(nn.Linear(cond_dim, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))

    def null_labels(self, n: int, device=None) -> torch.Tensor:
        return torch.zeros(n, self.cond_dim, device=device)
