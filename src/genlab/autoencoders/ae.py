"""Chapter 5.1: the classic autoencoder.

The book's model: MLP 784-512-256-32 with ReLU, a mirrored decoder and a Sigmoid output,
trained to reconstruct its input. Sampling decodes codes drawn from a diagonal Gaussian
fitted (running mean/std) to the training codes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genlab.autoencoders.nets import MLPDecoder, MLPEncoder
from genlab.config import TrainConfig
from genlab.train.recipe import Recipe


@dataclass
class AEConfig(TrainConfig):
    latent_dim: int = 32
    hidden: tuple[int, ...] = (512, 256)
    loss: str = "mse"  # mse | bce


class Autoencoder(nn.Module):
    def __init__(self, shape=(1, 28, 28), hidden=(512, 256), latent_dim=32):
        super().__init__()
        c, h, w = shape
        self.encoder = MLPEncoder(c * h * w, hidden, latent_dim)
        self.decoder = MLPDecoder(latent_dim, hidden, shape)
        self.register_buffer("z_mean", torch.zeros(latent_dim))
        self.register_buffer("z_std", torch.ones(latent_dim))

    def forward(self, x):
        return self.decoder(self.encoder(x))

    @torch.no_grad()
    def track_codes(self, z, momentum: float = 0.01):
        self.z_mean.lerp_(z.mean(0), momentum)
        self.z_std.lerp_(z.std(0) if len(z) > 1 else self.z_std, momentum)


def reconstruction_loss(x_hat, x, kind: str = "mse"):
    if kind == "bce":
        return F.binary_cross_entropy(x_hat, x)
    return F.mse_loss(x_hat, x)


class AERecipe(Recipe):
    name = "ae"
    family = "autoencoder"
    Config = AEConfig
    presets = {
        "quick": {"steps": 600, "batch_size": 128, "lr": 1e-3},
        "full": {"steps": 6000, "batch_size": 128, "lr": 1e-3},
        "book": {"steps": 3000, "batch_size": 128, "lr": 1e-3, "hidden": (512, 256), "latent_dim": 32},
    }

    def build(self):
        shape = (self.cfg.channels, self.cfg.image_size, self.cfg.image_size)
        self.nets["model"] = Autoencoder(shape, self.cfg.hidden, self.cfg.latent_dim).to(self.device)
        self.opts["model"] = torch.optim.Adam(self.nets["model"].parameters(), lr=self.cfg.lr)

    def train_step(self, batch, step):
        x, _ = batch
        model = self.nets["model"]
        z = model.encoder(x)
        loss = reconstruction_loss(model.decoder(z), x, self.cfg.loss)
        self.optimize("model", loss)
        model.track_codes(z.detach())
        return {"loss": loss}

    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        return self.nets["model"](x.to(self.device))

    def sample(self, n, generator=None, **options):
        m = self.nets["model"]
        eps = torch.randn(n, m.z_mean.numel(), generator=generator).to(self.device)
        return m.decoder(m.z_mean + m.z_std * eps)

    def evaluate(self, data):
        from genlab.metrics.reconstruction import reconstruction_metrics

        x = data.x_test.to(self.device)
        return {"model": self.name, **reconstruction_metrics(x, self.reconstruct(x)),
                "compression_ratio": float(x[0].numel() / self.cfg.latent_dim)}

    def figures(self, store):
        from genlab.utils.images import save_grid

        x = self.load_data().x_test[:16].to(self.device)
        path = store.samples_dir / "reconstructions.png"
        save_grid(path, torch.cat([x, self.reconstruct(x)]), nrow=16)
        return [path]
