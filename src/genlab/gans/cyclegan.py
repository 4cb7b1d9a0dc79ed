"""Chapter 5.3: CycleGAN, unpaired translation between thin and bold handwriting.

The two domains come from real digits (:func:`genlab.gans.strokes.thin_bold_split`): A is the
thinnest third of one half of the training images, B the boldest third of the other half, so
no digit appears in both and nothing is paired. Two ResNet generators (G_AB: thin -> bold,
G_BA: bold -> thin) and two PatchGAN discriminators (one score per image patch) are trained
with the least-squares GAN loss plus

- cycle consistency: G_BA(G_AB(a)) ~ a and G_AB(G_BA(b)) ~ b (L1, weight ``lambda_cycle``);
- identity: G_AB(b) ~ b and G_BA(a) ~ a (L1, weight ``lambda_identity``): a generator leaves
  images that already belong to its target domain alone.

``evaluate()`` translates the held-out thin and bold digits and reports whether the evaluator
still reads the same digit (``class_kept``), their mean stroke thickness before and after next
to the target domain's, and the cycle reconstruction error. ``genlab translate RUN --direction
a2b --in X.npy --out Y.npy`` applies a trained run to any images.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from genlab.config import TrainConfig
from genlab.errors import GenlabError
from genlab.gans.base import grad_norm, is_digit_data, set_requires_grad
from genlab.gans.losses import get_loss
from genlab.gans.strokes import thin_bold_split
from genlab.train.recipe import Recipe
from genlab.utils.ink import stroke_thickness

DIRECTIONS = ("a2b", "b2a")
WATCH_SEED = 31337


@dataclass
class CycleGANConfig(TrainConfig):
    width: int = 16  # generator channels at full resolution (doubled after the downsampling)
    res_blocks: int = 2
    d_width: int = 32
    loss: str = "lsgan"
    lambda_cycle: float = 10.0
    lambda_identity: float = 5.0
    domain_fraction: float = 1 / 3  # thinnest / boldest share of each half of the training images
    lr: float = 2e-4
    betas: tuple[float, ...] = (0.5, 0.999)
    eval_every: int = 250  # class kept and thickness of a fixed held-out batch, during training
    watch_samples: int = 200


class ResBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c, c, 3, padding=1, padding_mode="reflect"),
            nn.InstanceNorm2d(c, affine=True),
            nn.ReLU(),
            nn.Conv2d(c, c, 3, padding=1, padding_mode="reflect"),
            nn.InstanceNorm2d(c, affine=True),
        )

    def forward(self, x):
        return x + self.body(x)


class ResnetGenerator(nn.Module):
    """conv 7x7 -> stride-2 conv -> residual blocks -> transposed conv -> conv 7x7 -> Tanh."""

    def __init__(self, channels: int = 1, width: int = 16, res_blocks: int = 2):
        super().__init__()

        def norm_relu(c):
            return [nn.InstanceNorm2d(c, affine=True), nn.ReLU()]

        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 7, padding=3, padding_mode="reflect"),
            *norm_relu(width),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1),
            *norm_relu(2 * width),
            *[ResBlock(2 * width) for _ in range(res_blocks)],
            nn.ConvTranspose2d(2 * width, width, 4, stride=2, padding=1),
            *norm_relu(width),
            nn.Conv2d(width, channels, 7, padding=3, padding_mode="reflect"),
            nn.Tanh(),
        )

    def forward(self, x):
        return self.net(x)


class PatchDiscriminator(nn.Module):
    """Two stride-2 convs and a 3x3 conv: one score per overlapping patch (7x7 scores at 28x28)."""

    def __init__(self, channels: int = 1, width: int = 32):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(width, 2 * width, 4, stride=2, padding=1),
            nn.InstanceNorm2d(2 * width, affine=True),
            nn.LeakyReLU(0.2),
            nn.Conv2d(2 * width, 1, 3, padding=1),
        )

    def forward(self, x):
        return self.net(x)


class CycleGANRecipe(Recipe):
    name = "cyclegan"
    family = "gan"
    Config = CycleGANConfig
    presets = {
        "quick": {"steps": 1200, "batch_size": 16},
        "full": {
            "steps": 10000,
            "batch_size": 16,
            "width": 32,
            "res_blocks": 4,
            "eval_every": 1000,
            "ckpt_every": 2000,
        },
        # the paper's generator depth at this resolution (6 residual blocks) and its 32-64 widths
        "book": {"steps": 3000, "batch_size": 16, "width": 32, "res_blocks": 6},
    }

    def build(self):
        cfg = self.cfg
        if cfg.image_size % 2:
            raise GenlabError(f"cyclegan needs an even image_size, got {cfg.image_size}")
        if not 0 < cfg.domain_fraction <= 0.5:
            raise GenlabError(f"domain_fraction must be in (0, 0.5], got {cfg.domain_fraction}")
        self.loss = get_loss(cfg.loss)
        c = cfg.channels
        self.nets = {
            "g_ab": ResnetGenerator(c, cfg.width, cfg.res_blocks),
            "g_ba": ResnetGenerator(c, cfg.width, cfg.res_blocks),
            "d_a": PatchDiscriminator(c, cfg.d_width),
            "d_b": PatchDiscriminator(c, cfg.d_width),
        }
        for m in self.nets.values():
            m.to(self.device)
        g_params = [*self.nets["g_ab"].parameters(), *self.nets["g_ba"].parameters()]
        d_params = [*self.nets["d_a"].parameters(), *self.nets["d_b"].parameters()]
        self.opts = {
            "g": torch.optim.Adam(g_params, lr=cfg.lr, betas=tuple(cfg.betas)),
            "d": torch.optim.Adam(d_params, lr=cfg.lr, betas=tuple(cfg.betas)),
        }
        self._domains = None

    # -- data ------------------------------------------------------------------------------
    def domains(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Training images of domain A (thin) and B (bold), in [0, 1]."""
        if self._domains is None:
            x = self.load_data().x_train
            a, b = thin_bold_split(x, self.cfg.domain_fraction, self.cfg.seed)
            self._domains = (x[a], x[b])
        return self._domains

    def held_out_domains(self, data):
        """Thinnest and boldest ``domain_fraction`` of the held-out images: ((x_a, y_a), (x_b, y_b))."""
        t = stroke_thickness(data.x_test)
        k = max(1, int(len(t) * self.cfg.domain_fraction))
        a, b = t.argsort()[:k], t.argsort(descending=True)[:k]
        return (data.x_test[a], data.y_test[a]), (data.x_test[b], data.y_test[b])

    def draw(self, step: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Unpaired batches from A and B; the draw depends only on (seed, step), so resume is exact."""
        xa, xb = self.domains()
        g = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + step)
        ia = torch.randint(len(xa), (self.cfg.batch_size,), generator=g)
        ib = torch.randint(len(xb), (self.cfg.batch_size,), generator=g)
        return xa[ia].to(self.device) * 2 - 1, xb[ib].to(self.device) * 2 - 1

    # -- training --------------------------------------------------------------------------
    def train_step(self, batch, step):
        cfg, n = self.cfg, self.nets
        a, b = self.draw(step)

        set_requires_grad(n["d_a"], False)
        set_requires_grad(n["d_b"], False)
        fake_b, fake_a = n["g_ab"](a), n["g_ba"](b)
        adv = self.loss.g(n["d_b"](fake_b)) + self.loss.g(n["d_a"](fake_a))
        cycle = F.l1_loss(n["g_ba"](fake_b), a) + F.l1_loss(n["g_ab"](fake_a), b)
        identity = (
            F.l1_loss(n["g_ab"](b), b) + F.l1_loss(n["g_ba"](a), a)
            if cfg.lambda_identity > 0
            else torch.zeros((), device=self.device)
        )
        g_loss = adv + cfg.lambda_cycle * cycle + cfg.lambda_identity * identity
        self.optimize("g", g_loss)

        set_requires_grad(n["d_a"], True)
        set_requires_grad(n["d_b"], True)
        sa_real, sa_fake = n["d_a"](a), n["d_a"](fake_a.detach())
        sb_real, sb_fake = n["d_b"](b), n["d_b"](fake_b.detach())
        d_loss = self.loss.d(sa_real, sa_fake) + self.loss.d(sb_real, sb_fake)
        self.optimize("d", d_loss)

        acc_a = self.loss.accuracies(sa_real.detach(), sa_fake.detach())
        acc_b = self.loss.accuracies(sb_real.detach(), sb_fake.detach())
        d_norm = torch.stack([grad_norm(n["d_a"]), grad_norm(n["d_b"])]).norm()
        g_norm = torch.stack([grad_norm(n["g_ab"]), grad_norm(n["g_ba"])]).norm()
        return {
            "loss": (g_loss + d_loss).detach(),
            "d_loss": d_loss.detach(),
            "g_loss": adv.detach(),
            "cycle_loss": cycle.detach(),
            "identity_loss": identity.detach(),
            "d_real_acc": (acc_a[0] + acc_b[0]) / 2,
            "d_fake_acc": (acc_a[1] + acc_b[1]) / 2,
            "d_grad_norm": d_norm,
            "g_grad_norm": g_norm,
        }

    # -- translation and scoring -------------------------------------------------------------
    @torch.no_grad()
    def translate(self, x: torch.Tensor, direction: str, batch: int = 256) -> torch.Tensor:
        """Images in [0, 1] (N, C, H, W) from one domain into the other (``a2b``: thin -> bold)."""
        if direction not in DIRECTIONS:
            raise GenlabError(f"direction must be one of {', '.join(DIRECTIONS)}, got '{direction}'")
        expected = (self.cfg.channels, self.cfg.image_size, self.cfg.image_size)
        if tuple(x.shape[1:]) != expected:
            raise GenlabError(
                f"images have shape {tuple(x.shape[1:])} but this model translates {expected} (channels, height, width)"
            )
        g = self.nets["g_ab" if direction == "a2b" else "g_ba"]
        out = [(g(x[i : i + batch].to(self.device) * 2 - 1) + 1) / 2 for i in range(0, len(x), batch)]
        return torch.cat(out).clamp(0, 1).cpu() if out else x.clone()

    def translation_metrics(self, xa, ya, xb, yb) -> dict:
        """Class kept (digits only), thickness before/after and cycle error of both directions."""
        to_b, to_a = self.translate(xa, "a2b"), self.translate(xb, "b2a")
        t = {k: float(stroke_thickness(v).mean()) for k, v in (("a", xa), ("b", xb), ("a2b", to_b), ("b2a", to_a))}
        gap = t["b"] - t["a"] or 1e-8
        out = {
            "thickness_a": t["a"],
            "thickness_b": t["b"],
            "thickness_a2b": t["a2b"],
            "thickness_b2a": t["b2a"],
            # share of the gap between the two domains' mean thickness that a translation covers (1 = all of it)
            "thickness_moved_a2b": (t["a2b"] - t["a"]) / gap,
            "thickness_moved_b2a": (t["b"] - t["b2a"]) / gap,
            "cycle_l1_a": float((self.translate(to_b, "b2a") - xa).abs().mean()),
            "cycle_l1_b": float((self.translate(to_a, "a2b") - xb).abs().mean()),
        }
        if ya is not None:
            from genlab.metrics.evaluator import get_evaluator

            ev = get_evaluator()
            out["class_kept_a2b"] = float((ev.predict(to_b) == ya).float().mean())
            out["class_kept_b2a"] = float((ev.predict(to_a) == yb).float().mean())
            out["class_kept"] = (out["class_kept_a2b"] + out["class_kept_b2a"]) / 2
            out["evaluator_acc_untranslated"] = float(
                torch.cat([ev.predict(xa) == ya, ev.predict(xb) == yb]).float().mean()
            )
        return out

    def periodic_eval(self, step):
        data = self.load_data()
        (xa, ya), (xb, yb) = self.held_out_domains(data)
        k = self.cfg.watch_samples
        digits = is_digit_data(data)
        m = self.translation_metrics(xa[:k], ya[:k] if digits else None, xb[:k], yb[:k] if digits else None)
        return {
            key: m[key]
            for key in ("class_kept", "thickness_moved_a2b", "thickness_moved_b2a", "cycle_l1_a")
            if key in m
        }

    def evaluate(self, data):
        (xa, ya), (xb, yb) = self.held_out_domains(data)
        digits = is_digit_data(data)
        return {
            "model": self.name,
            "n_a": len(xa),
            "n_b": len(xb),
            **self.translation_metrics(xa, ya if digits else None, xb, yb if digits else None),
        }

    def figures(self, store):
        """samples/translations.png: thin originals, A->B, A->B->A; bold originals, B->A, B->A->B."""
        from genlab.utils.images import save_grid

        (xa, _), (xb, _) = self.held_out_domains(self.load_data())
        xa, xb = xa[:12], xb[:12]
        to_b, to_a = self.translate(xa, "a2b"), self.translate(xb, "b2a")
        rows = [xa, to_b, self.translate(to_b, "b2a"), xb, to_a, self.translate(to_a, "a2b")]
        return [save_grid(store.samples_dir / "translations.png", torch.cat(rows), nrow=len(xa), scale=3)]
