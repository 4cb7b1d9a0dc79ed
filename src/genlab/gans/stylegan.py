"""Chapter 5.3: the StyleGAN ideas at MNIST scale (Karras et al. 2019).

- A **mapping network** (MLP) turns z into an intermediate latent w.
- The **synthesis network** starts from a learned constant; every layer is a 3x3 convolution,
  a **per-layer noise input** (learned per-channel strength), LeakyReLU and **AdaIN**: instance
  normalisation whose scale and bias come from w through a learned affine map.
- **Style mixing regularisation**: during training, with probability ``mixing_prob`` two w's
  drive the layers before and after a random crossover point.
- **Truncation**: sampling with ``--truncation psi`` pulls w towards the tracked average
  w_avg, trading variety for typicality.
- The discriminator is genlab's conv discriminator with StyleGAN's **minibatch standard
  deviation** feature (``mbstd_group``). Without it the generator collapsed: z only reaches the
  synthesis network through styles, instance normalisation removes the batch statistics that
  keep DCGAN's batch-normed generator varied, and within 200 steps every z drew the same
  scribble (the mapping network's lr, 0.01x as in the paper, did not prevent it).

``figures()`` writes ``samples/style_mixing.png`` (coarse styles from the row's source, fine
styles from the column's source) and ``samples/truncation.png`` (one z per row, psi growing
left to right).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genlab.gans.base import R1_RECIPE, GANConfig, GANRecipe, schedule
from genlab.gans.nets import ConvDiscriminator, stage_widths, upsampling_plan
from genlab.train.recipe import Option

TRUNCATION_SWEEP = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25)
#: the quick and full presets' training: the DCGAN's R1 recipe (non-saturating loss, lazy R1, no spectral
#: norm) at the book's learning rates (the DCGAN's 1e-3 / 2e-3 make the style generator collapse), with
#: mixing_prob 0.5 and the minibatch-stddev discriminator; bench/README.md compares it with genlab's TUNED
#: hinge training and the paper's settings.
STYLE_TRAINING = {**R1_RECIPE, "lr": 2e-4, "lr_d": 4e-4, "mbstd_group": 4}


@dataclass
class StyleGANConfig(GANConfig):
    width: int = 64
    w_dim: int = 64
    mapping_layers: int = 4
    mixing_prob: float = 0.5  # the paper's 0.9 learns more slowly at this scale
    mbstd_group: int = 0  # > 0: minibatch standard deviation layer in D over groups of this many images
    mapping_lr_mult: float = 1.0  # the mapping network learns at lr * this (the paper: 0.01)
    w_avg_beta: float = 0.995  # w_avg <- w_avg + (1 - beta) * (mean w - w_avg) each training step


class MappingNetwork(nn.Module):
    """z -> normalise -> MLP with LeakyReLU(0.2) -> w."""

    def __init__(self, z_dim: int, w_dim: int, layers: int):
        super().__init__()
        sizes = [z_dim] + [w_dim] * layers
        self.net = nn.Sequential(
            *[m for a, b in zip(sizes[:-1], sizes[1:]) for m in (nn.Linear(a, b), nn.LeakyReLU(0.2))]
        )
        for m in self.net:
            if isinstance(m, nn.Linear):  # variance-preserving, so w still depends on z after several layers
                nn.init.kaiming_normal_(m.weight, a=0.2)
                nn.init.zeros_(m.bias)

    def forward(self, z):
        return self.net(z * torch.rsqrt(z.pow(2).mean(1, keepdim=True) + 1e-8))


class StyleLayer(nn.Module):
    """conv 3x3 -> + noise * strength -> LeakyReLU -> AdaIN(w)."""

    def __init__(self, c_in: int, c_out: int, w_dim: int):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.noise_strength = nn.Parameter(torch.zeros(1, c_out, 1, 1))
        self.style = nn.Linear(w_dim, 2 * c_out)
        nn.init.zeros_(self.style.bias)  # scale 1 + A(w), bias A(w): w steers every layer from the start

    def forward(self, x, w, generator=None):
        x = self.conv(x)
        shape = (x.shape[0], 1, *x.shape[2:])
        noise = (
            torch.randn(shape, device=x.device)
            if generator is None
            else torch.randn(shape, generator=generator).to(x.device)
        )
        x = F.leaky_relu(x + self.noise_strength * noise, 0.2)
        scale, bias = self.style(w)[:, :, None, None].chunk(2, 1)
        return F.instance_norm(x) * (1 + scale) + bias


class SynthesisNetwork(nn.Module):
    """Learned constant at the coarsest resolution; one style layer there, two per doubling."""

    def __init__(self, channels: int, size: int, width: int, w_dim: int):
        super().__init__()
        self.base, n = upsampling_plan(size)
        widths = stage_widths(width, n)
        self.const = nn.Parameter(torch.randn(1, widths[0], self.base, self.base))
        layers = [StyleLayer(widths[0], widths[0], w_dim)]
        self.upsample_before = [False]
        for a, b in zip(widths[:-1], widths[1:]):
            layers += [StyleLayer(a, b, w_dim), StyleLayer(b, b, w_dim)]
            self.upsample_before += [True, False]
        self.layers = nn.ModuleList(layers)
        self.to_image = nn.Conv2d(widths[-1], channels, 1)
        self.num_ws = len(layers)
        self.num_coarse = len(layers) - 2  # every layer below the final resolution

    def forward(self, ws, generator=None):
        x = self.const.expand(len(ws), -1, -1, -1)
        for i, (layer, up) in enumerate(zip(self.layers, self.upsample_before)):
            if up:
                x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = layer(x, ws[:, i], generator)
        return torch.tanh(self.to_image(x))


class StyleGenerator(nn.Module):
    def __init__(
        self,
        z_dim: int,
        w_dim: int,
        mapping_layers: int,
        channels: int,
        size: int,
        width: int,
        mixing_prob: float = 0.9,
        w_avg_beta: float = 0.995,
    ):
        super().__init__()
        self.mapping = MappingNetwork(z_dim, w_dim, mapping_layers)
        self.synthesis = SynthesisNetwork(channels, size, width, w_dim)
        self.mixing_prob, self.w_avg_beta = mixing_prob, w_avg_beta
        self.register_buffer("w_avg", torch.zeros(w_dim))

    def styles(self, z, truncation: float | None = None) -> torch.Tensor:
        """One w per synthesis layer (B, num_ws, w_dim); mixed while training, truncated on request."""
        w = self.mapping(z)
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(w.float().mean(0), 1 - self.w_avg_beta)  # float32 also under amp=bf16
        ws = w[:, None].repeat(1, self.synthesis.num_ws, 1)
        if self.training and self.mixing_prob > 0:
            w2 = self.mapping(torch.randn_like(z))
            cut = torch.randint(1, self.synthesis.num_ws, (len(z), 1), device=z.device)
            cut = torch.where(torch.rand(len(z), 1, device=z.device) < self.mixing_prob, cut, self.synthesis.num_ws)
            later = torch.arange(self.synthesis.num_ws, device=z.device)[None] >= cut
            ws = torch.where(later[..., None], w2[:, None], ws)
        if truncation is not None:
            ws = self.w_avg + truncation * (ws - self.w_avg)
        return ws

    def forward(self, z, y=None, truncation: float | None = None, generator=None):
        return self.synthesis(self.styles(z, truncation), generator)


class StyleGANRecipe(GANRecipe):
    name = "stylegan"
    Config = StyleGANConfig
    options = (
        Option(
            "truncation",
            float,
            "truncation psi: w pulled towards the average style, 1 = none, smaller = less varied",
        ),
    )
    presets = {
        "quick": {**STYLE_TRAINING, **schedule(1500)},
        "full": {**STYLE_TRAINING, **schedule(20000, sample_every=1000, eval_every=1000, ckpt_every=2000)},
        # the paper's training choices: non-saturating logistic loss, R1 penalty, no spectral norm
        "book": {
            "loss": "ns",
            "r1_gamma": 1.0,
            "mixing_prob": 0.9,
            "spectral_norm": False,
            **schedule(1500),
        },
    }

    def make_nets(self):
        cfg = self.cfg
        g = StyleGenerator(
            cfg.z_dim,
            cfg.w_dim,
            cfg.mapping_layers,
            cfg.channels,
            cfg.image_size,
            cfg.width,
            cfg.mixing_prob,
            cfg.w_avg_beta,
        )
        return g, ConvDiscriminator(
            cfg.channels, cfg.image_size, cfg.width, spectral=cfg.spectral_norm, mbstd_group=cfg.mbstd_group
        )

    def generator_param_groups(self, g):
        mapping = list(g.mapping.parameters())
        ids = {id(p) for p in mapping}
        return [
            {"params": [p for p in g.parameters() if id(p) not in ids]},
            {"params": mapping, "lr": self.cfg.lr * self.cfg.mapping_lr_mult},
        ]

    def generate(self, z, y, generator=None, truncation=None):
        return self.sampler_net(z, y, truncation=truncation, generator=generator)

    def _render(self, ws: torch.Tensor, seed: int) -> torch.Tensor:
        g = torch.Generator().manual_seed(seed)
        return ((self.sampler_net.synthesis(ws, g) + 1) / 2).clamp(0, 1)

    def figures(self, store):
        from genlab.utils.images import save_grid

        G, cfg = self.sampler_net, self.cfg
        g = torch.Generator().manual_seed(cfg.seed + 2024)
        rows, cols = 5, 6
        w_rows = G.styles(torch.randn(rows, cfg.z_dim, generator=g).to(self.device))
        w_cols = G.styles(torch.randn(cols, cfg.z_dim, generator=g).to(self.device))
        k = G.synthesis.num_coarse
        mixed = torch.cat(
            [w_rows[:, None, :k].expand(-1, cols, -1, -1), w_cols[None, :, k:].expand(rows, -1, -1, -1)], 2
        )
        blank = torch.zeros(1, cfg.channels, cfg.image_size, cfg.image_size, device=self.device)
        src_rows, src_cols = self._render(w_rows, cfg.seed), self._render(w_cols, cfg.seed)
        cells = self._render(mixed.flatten(0, 1), cfg.seed).view(rows, cols, *blank.shape[1:])
        grid = torch.cat([torch.cat([blank, src_cols])[None], torch.cat([src_rows[:, None], cells], 1)]).flatten(0, 1)
        mixing = save_grid(store.samples_dir / "style_mixing.png", grid, nrow=cols + 1, scale=3)

        z = torch.randn(rows, cfg.z_dim, generator=g).to(self.device)
        sweep = torch.stack([self._render(G.styles(z, psi), cfg.seed) for psi in TRUNCATION_SWEEP], 1).flatten(0, 1)
        trunc = save_grid(store.samples_dir / "truncation.png", sweep, nrow=len(TRUNCATION_SWEEP), scale=3)
        return [*super().figures(store), mixing, trunc]
