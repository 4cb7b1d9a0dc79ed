"""Chapter 5.1: the classic autoencoder.

The book's model (preset ``book``, ``arch=mlp``): MLP 784-512-256-32 with ReLU, a mirrored
decoder and a Sigmoid output, trained to reconstruct its input (Adam 1e-3). The default is a
small convolutional encoder/decoder. Sampling decodes codes drawn from a diagonal Gaussian
fitted (running mean/std) to the training codes.

The denoising (dae.py) and sparse (sparse.py) autoencoders change one piece each:
``corrupt`` (the input the encoder sees) and ``code_penalty`` (a term on the codes).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from genlab.autoencoders.base import AutoencoderConfig, AutoencoderRecipe, add_noise
from genlab.autoencoders.losses import reconstruction_loss
from genlab.autoencoders.nets import make_decoder, make_encoder
from genlab.metrics.reconstruction import psnr


@dataclass
class AEConfig(AutoencoderConfig):
    loss: str = "mse"  # mse | bce
    eval_noise: float = 0.3  # noise factor of the held-out "PSNR on noisy inputs"


class Autoencoder(nn.Module):
    def __init__(self, shape=(1, 28, 28), hidden=(512, 256), latent_dim=32, arch="mlp", width=32):
        super().__init__()
        self.encoder = make_encoder(arch, shape, latent_dim, hidden, width)
        self.decoder = make_decoder(arch, latent_dim, shape, hidden, width)
        self.register_buffer("z_mean", torch.zeros(latent_dim))
        self.register_buffer("z_std", torch.ones(latent_dim))

    def forward(self, x):
        return self.decoder(self.encoder(x))

    @torch.no_grad()
    def track_codes(self, z, momentum: float = 0.01):
        z = z.float()  # bf16 under amp=bf16; the statistics stay float32
        self.z_mean.lerp_(z.mean(0), momentum)
        self.z_std.lerp_(z.std(0) if len(z) > 1 else self.z_std, momentum)


BOOK_MLP = {"arch": "mlp", "hidden": (512, 256), "latent_dim": 32, "lr": 1e-3, "batch_size": 128}


class AERecipe(AutoencoderRecipe):
    name = "ae"
    Config = AEConfig
    presets = {
        "quick": {"steps": 600, "batch_size": 128, "lr": 1e-3},
        "full": {"steps": 6000, "batch_size": 128, "lr": 1e-3},
        "book": {"steps": 3000, **BOOK_MLP},
    }

    def build(self):
        c = self.cfg
        self.nets["model"] = Autoencoder(self.shape, c.hidden, c.latent_dim, c.arch, c.width).to(self.device)
        self.opts["model"] = torch.optim.Adam(self.nets["model"].parameters(), lr=c.lr)

    def corrupt(self, x: torch.Tensor) -> torch.Tensor:
        """The input the encoder sees during training (the clean image here)."""
        return x

    def code_penalty(self, z: torch.Tensor) -> torch.Tensor | None:
        """An extra loss term on the codes (none here)."""
        return None

    def train_step(self, batch, step):
        x, _ = batch
        model = self.nets["model"]
        z = model.encoder(self.corrupt(x))
        recon = reconstruction_loss(model.decoder(z), x, self.cfg.loss)
        penalty = self.code_penalty(z)
        loss = recon if penalty is None else recon + penalty
        self.optimize("model", loss)
        model.track_codes(z.detach())
        logs = {"loss": loss, "recon": recon}
        if penalty is not None:
            logs["penalty"] = penalty
        return logs

    def encode(self, x, y=None):
        return self.nets["model"].encoder(x.to(self.device))

    def decode(self, z, y=None):
        return self.nets["model"].decoder(z.to(self.device))

    def sample(self, n, generator=None):
        m = self.sampler_net
        eps = torch.randn(n, m.z_mean.numel(), generator=generator).to(self.device)
        return m.decoder(m.z_mean + m.z_std * eps)

    def extra_metrics(self, x, y):
        """PSNR of the reconstruction of noisy held-out inputs against the clean images."""
        noisy = add_noise(x, self.cfg.eval_noise, torch.Generator(device=x.device).manual_seed(0))
        return {
            "noisy_input_psnr": float(psnr(x, noisy).mean()),
            "noisy_recon_psnr": float(psnr(x, self.reconstruct(noisy)).mean()),
        }
