"""Diffusion pieces without training: schedules, the forward process, the U-Net, the samplers' math."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from genlab.diffusion.fast import FastDenoiser
from genlab.diffusion.samplers import (
    Denoiser,
    ddim_sample,
    ddpm_sample,
    dpmpp_2m_sample,
    sample,
    timesteps_for,
    timesteps_logsnr,
)
from genlab.diffusion.schedules import NoiseSchedule
from genlab.diffusion.unet import ResBlock, UNet
from genlab.errors import GenlabError


def test_linear_schedule_is_the_books():
    s = NoiseSchedule.make("linear", 1000)
    assert s.timesteps == 1000
    assert s.betas[0].item() == pytest.approx(1e-4) and s.betas[-1].item() == pytest.approx(0.02)
    assert torch.allclose(s.alphas_cumprod, torch.cumprod(1 - s.betas.double(), 0).float())
    assert s.alphas_cumprod[-1] < 1e-4  # x_T is (almost) pure noise


def test_cosine_schedule_decreases_from_one_to_zero():
    ab = NoiseSchedule.make("cosine", 1000).alphas_cumprod
    assert ab[0] > 0.999 and ab[-1] < 1e-3
    assert (ab[1:] < ab[:-1]).all()
    with pytest.raises(GenlabError):
        NoiseSchedule.make("quadratic")


def test_q_sample_broadcasts_one_alphabar_per_image():
    s = NoiseSchedule.make("linear")
    x0, noise = torch.rand(4, 1, 28, 28) * 2 - 1, torch.randn(4, 1, 28, 28)
    t = torch.tensor([0, 10, 500, 999])
    xt = s.q_sample(x0, t, noise)
    for i in range(4):
        ab = s.alphas_cumprod[t[i]]
        assert torch.allclose(xt[i], ab.sqrt() * x0[i] + (1 - ab).sqrt() * noise[i], atol=1e-5)


def test_eps_x0_v_conversions_round_trip():
    s = NoiseSchedule.make("cosine")
    x0, eps = torch.randn(6, 3, 8, 8), torch.randn(6, 3, 8, 8)
    t = torch.randint(0, 1000, (6,))
    xt = s.q_sample(x0, t, eps)
    v = s.v_from(x0, t, eps)
    assert torch.allclose(s.x0_from_v(xt, t, v), x0, atol=1e-4)
    assert torch.allclose(s.eps_from_v(xt, t, v), eps, atol=1e-4)
    t_mid = t.clamp(10, 990)  # x0 <-> eps is ill-conditioned at the very ends of the chain
    xt = s.q_sample(x0, t_mid, eps)
    assert torch.allclose(s.x0_from_eps(xt, t_mid, eps), x0, atol=1e-3)
    assert torch.allclose(s.eps_from_x0(xt, t_mid, x0), eps, atol=1e-3)


@pytest.mark.parametrize("shape,mults", [((1, 28, 28), (1, 2, 2, 2)), ((3, 32, 32), (1, 2)), ((1, 20, 24), (1, 2, 4))])
def test_unet_keeps_any_image_shape(shape, mults):
    net = UNet(shape[0], base_channels=8, channel_mults=mults, num_classes=10)
    x = torch.randn(2, *shape)
    assert net(x, torch.tensor([3, 700]), torch.tensor([1, 10])).shape == x.shape


def test_unet_in_place_sums_and_silus_change_no_number():
    torch.manual_seed(0)
    net = UNet(1, base_channels=8, channel_mults=(1, 2), num_classes=10)
    torch.nn.init.normal_(net.out[-1].weight)
    x, t, y = torch.randn(3, 1, 12, 12), torch.tensor([1, 400, 999]), torch.tensor([0, 4, 10])
    with torch.inference_mode():  # sampling: SiLUs and sums in place
        sampled = net(x, t, y)
    assert torch.equal(sampled, net(x, t, y).detach())
    block, h, emb = net.down[0][0], torch.randn(3, 8, 12, 12, requires_grad=True), torch.randn(3, 32)

    def out_of_place(h):
        a = block.conv1(F.silu(block.norm1(h))) + block.emb(emb)[:, :, None, None]
        return block.conv2(F.silu(block.norm2(a))) + h

    (grad,) = torch.autograd.grad(block(h, emb).square().sum(), h)  # training: the same gradients
    (ref,) = torch.autograd.grad(out_of_place(h).square().sum(), h)
    assert torch.equal(grad, ref)


def test_time_reaches_every_residual_block_and_labels_change_the_output():
    torch.manual_seed(0)
    net = UNet(1, base_channels=8, channel_mults=(1, 2, 2, 2), num_classes=10)
    torch.nn.init.normal_(net.out[-1].weight)  # the output layer starts at zero
    outputs = {}
    blocks = [m for m in net.modules() if isinstance(m, ResBlock)]
    for i, b in enumerate(blocks):
        b.register_forward_hook(lambda m, a, out, i=i: outputs.setdefault(i, []).append(out))
    x = torch.randn(2, 1, 28, 28)
    y = net(x, torch.tensor([5, 5]), torch.tensor([3, 3]))
    net(x, torch.tensor([900, 900]), torch.tensor([3, 3]))
    assert len(blocks) == 4 + 2 + 4  # one per level down and up, two in the middle
    for i in range(len(blocks)):
        assert not torch.allclose(outputs[i][0], outputs[i][1]), f"block {i} does not see the time step"
    assert not torch.allclose(y, net(x, torch.tensor([5, 5]), net.null_labels(2)))


def test_guidance_mixes_conditional_and_unconditional_outputs():
    torch.manual_seed(0)
    net = UNet(1, base_channels=8, channel_mults=(1, 2), num_classes=10)
    torch.nn.init.normal_(net.out[-1].weight)
    s = NoiseSchedule.make("linear")
    x, t, y = torch.randn(3, 1, 28, 28), torch.tensor([100, 200, 300]), torch.tensor([0, 4, 9])
    with torch.no_grad():
        cond, uncond = net(x, t, y), net(x, t, net.null_labels(3))
        got = Denoiser(net, s, labels=y, guidance=3.0).output(x, t)
    # one batch of 6 against two of 3: convolution kernels may sum in a batch-dependent order
    # (float32 rounding, ~1e-5 on these outputs of size ~5 on an AMD EPYC), amplified by w
    assert torch.allclose(got, uncond + 3.0 * (cond - uncond), rtol=1e-4, atol=1e-4)


class ExactDenoiser(torch.nn.Module):
    """The exact eps-predictor when the data distribution is the single image ``x0``."""

    def __init__(self, schedule, x0):
        super().__init__()
        self.s, self.x0 = schedule, x0

    def forward(self, x, t, labels=None):
        return self.s.eps_from_x0(x, t, self.x0.expand_as(x))

    def null_labels(self, n, device=None):
        return torch.full((n,), 10, dtype=torch.long)


@pytest.mark.parametrize(
    "sampler,steps,eta", [("ddpm", None, 0.0), ("ddpm", 100, 0.0), ("ddim", 50, 0.0), ("ddim", 20, 1.0)]
)
def test_samplers_land_on_the_data_under_an_exact_denoiser(sampler, steps, eta):
    s = NoiseSchedule.make("linear")
    x0 = torch.rand(1, 1, 8, 8) * 1.6 - 0.8
    den = Denoiser(ExactDenoiser(s, x0), s, clip=False)
    g = torch.Generator().manual_seed(0)
    out = (
        ddpm_sample(den, (3, 1, 8, 8), g, steps) if sampler == "ddpm" else ddim_sample(den, (3, 1, 8, 8), g, steps, eta)
    )
    assert torch.allclose(out, x0.expand_as(out), atol=1e-3)
    assert den.evaluations == (steps or 1000)


@pytest.mark.parametrize("eta", [0.0, 1.0])
def test_dpm_solver_lands_on_the_data_under_an_exact_denoiser(eta):
    s = NoiseSchedule.make("linear")
    x0 = torch.rand(1, 1, 8, 8) * 1.6 - 0.8
    den = Denoiser(ExactDenoiser(s, x0), s, clip=False)
    out = dpmpp_2m_sample(den, (3, 1, 8, 8), torch.Generator().manual_seed(0), 10, eta)
    assert torch.allclose(out, x0.expand_as(out), atol=1e-3)
    assert den.evaluations == 10


class GaussianDenoiser(torch.nn.Module):
    """The exact eps-predictor when the data are N(mu, std^2) per pixel: E[x0 | x_t] in closed form."""

    def __init__(self, schedule, mu, std):
        super().__init__()
        self.s, self.mu, self.var = schedule, mu, std**2

    def forward(self, x, t, labels=None):
        ab = self.s.alphas_cumprod[t].view(-1, 1, 1, 1)
        a = ab.sqrt()
        x0 = self.mu + a * self.var / (ab * self.var + 1 - ab) * (x - a * self.mu)
        return (x - a * x0) / (1 - ab).sqrt()


def test_dpm_solver_is_second_order_on_the_probability_flow():
    """Gaussian data: the probability-flow ODE keeps u = (x_t - a_t mu) / sqrt(a_t^2 std^2 + s_t^2)
    fixed, so the exact end point of each noise draw is known. With the same 10 network calls,
    DPM-Solver++(2M) lands much closer to it than DDIM (first order)."""
    s = NoiseSchedule.make("linear")
    mu, std = 0.2, 0.3
    den = Denoiser(GaussianDenoiser(s, mu, std), s, clip=False)
    shape = (64, 1, 4, 4)
    ab_T = float(s.alphas_cumprod[-1])
    x_T = torch.randn(shape, generator=torch.Generator().manual_seed(0))
    u = (x_T - ab_T**0.5 * mu) / (ab_T * std**2 + 1 - ab_T) ** 0.5
    ab_0 = float(s.alphas_cumprod[0])
    exact_x0 = mu + ab_0**0.5 * std**2 / (ab_0 * std**2 + 1 - ab_0) * (((ab_0 * std**2 + 1 - ab_0) ** 0.5) * u)
    err = {
        name: (sample(den, shape, torch.Generator().manual_seed(0), name, 10, 0.0) - exact_x0).abs().max().item()
        for name in ("ddim", "dpm++2m")
    }
    assert err["dpm++2m"] < 0.05, err
    assert err["dpm++2m"] < err["ddim"] / 5, err


@pytest.mark.parametrize("T,steps", [(1000, 20), (1000, 50), (1000, 1000), (30, 30), (30, 5)])
def test_log_snr_timesteps_are_distinct_and_span_the_chain(T, steps):
    ts = timesteps_logsnr(NoiseSchedule.make("linear", T), steps)
    assert len(ts) == steps and ts[0] == T - 1 and ts[-1] == 0
    assert all(a > b for a, b in zip(ts, ts[1:]))


def test_ddpm_sampler_is_the_books_formula_when_not_clipping():
    torch.manual_seed(0)
    s = NoiseSchedule.make("linear", 30)
    net = UNet(1, base_channels=8, channel_mults=(1, 2))
    torch.nn.init.normal_(net.out[-1].weight, std=0.1)
    with torch.no_grad():
        ours = ddpm_sample(Denoiser(net, s, clip=False), (2, 1, 8, 8), torch.Generator().manual_seed(1))
        g = torch.Generator().manual_seed(1)
        img = torch.randn(2, 1, 8, 8, generator=g)
        for i in reversed(range(30)):
            eps = net(img, torch.full((2,), i, dtype=torch.long))
            a, ab, b = s.alphas[i], s.alphas_cumprod[i], s.betas[i]
            img = (1 / a.sqrt()) * (img - b * eps / (1 - ab).sqrt())
            if i > 0:
                img = img + b.sqrt() * torch.randn(img.shape, generator=g)
    assert torch.allclose(ours, img, atol=1e-4, rtol=1e-4)  # values grow to ~1e3 without clipping


def test_ddim_eta0_is_deterministic_and_steps_are_checked():
    s = NoiseSchedule.make("linear")
    net = UNet(1, base_channels=8, channel_mults=(1, 2))
    with torch.no_grad():
        a = ddim_sample(Denoiser(net, s), (2, 1, 8, 8), torch.Generator().manual_seed(3), 10)
        b = ddim_sample(Denoiser(net, s), (2, 1, 8, 8), torch.Generator().manual_seed(3), 10)
    assert torch.equal(a, b)
    assert timesteps_for(s, 4) == [999, 666, 333, 0]
    with pytest.raises(GenlabError):
        timesteps_for(s, 0)
    with pytest.raises(GenlabError):
        timesteps_for(s, 1001)


@pytest.mark.parametrize("guidance", [1.0, 3.0])
def test_fast_denoiser_gives_the_plain_denoisers_images(guidance):
    """The fast path (genlab.diffusion.fast) is the plain denoiser, faster: with 2 torch threads a
    32-image network call runs as 2 single-threaded chunks, and the images are the same bit for bit."""
    torch.manual_seed(0)
    s = NoiseSchedule.make("linear")
    net = UNet(1, base_channels=8, channel_mults=(1, 2), num_classes=10).eval()
    torch.nn.init.normal_(net.out[-1].weight, std=0.2)
    labels = torch.arange(32) % 10
    batch = 32 if guidance == 1.0 else 64  # guided: conditional and null-class outputs in one call
    sizes = []

    class Recorded(FastDenoiser):
        def _network(self, x, t, labels):
            sizes.append(len(x))
            return super()._network(x, t, labels)

    def images(denoiser_class):
        den = denoiser_class(net, s, labels=labels, guidance=guidance)
        return ddim_sample(den, (32, 1, 8, 8), torch.Generator().manual_seed(3), 5, eta=1.0)

    threads = torch.get_num_threads()
    out = {}
    try:
        torch.set_num_threads(1)
        plain = images(Denoiser)
        for n in (1, 2):
            torch.set_num_threads(n)
            sizes.clear()
            out[n] = images(Recorded)
            assert sizes == [batch // n] * (5 * n)  # 5 steps, one chunk per thread
            assert torch.get_num_threads() == n  # the caller's thread setting is left alone
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(out[1], plain) and torch.equal(out[2], plain) and plain.std() > 0.1


def test_bf16_denoiser_keeps_bf16_weights_and_autocasts_numbers():
    """The bf16 path stores conv/linear weights in bfloat16 once (a copy; the model is untouched)
    and gives bit for bit what bfloat16 autocast gives on the float32 model."""
    torch.manual_seed(0)
    net = UNet(1, base_channels=8, channel_mults=(1, 2), num_classes=10).eval()
    torch.nn.init.normal_(net.out[-1].weight, std=0.2)
    den = FastDenoiser(net, NoiseSchedule.make("linear"), bf16=True)
    assert den.model.stem.weight.dtype == torch.bfloat16 and den.model.out[0].weight.dtype == torch.float32
    assert net.stem.weight.dtype == torch.float32
    x, t, labels = torch.randn(4, 1, 8, 8), torch.tensor([0, 10, 500, 999]), torch.arange(4)
    with torch.inference_mode(), torch.autocast("cpu", dtype=torch.bfloat16):
        expected = net(x, t, labels).float()
    assert torch.equal(den.network(x, t, labels), expected)


@pytest.mark.parametrize("prediction", ["eps", "v"])
def test_diffusion_loss_regresses_the_target_and_draws_t_then_noise(prediction):
    from genlab.diffusion.recipe import diffusion_loss

    s = NoiseSchedule.make("linear", 100)
    x0 = torch.rand(4, 1, 8, 8) * 2 - 1
    seen = {}

    def model(xt, t, c):
        seen.update(xt=xt, t=t, c=c)
        return torch.zeros_like(xt)

    torch.manual_seed(0)
    loss = diffusion_loss(model, s, x0, "c", prediction)
    torch.manual_seed(0)
    t = torch.randint(0, 100, (4,))
    noise = torch.randn_like(x0)
    target = noise if prediction == "eps" else s.v_from(x0, t, noise)
    assert torch.equal(seen["t"], t) and seen["c"] == "c"
    assert torch.equal(seen["xt"], s.q_sample(x0, t, noise))
    assert torch.equal(loss, F.mse_loss(torch.zeros_like(x0), target))
    assert torch.equal(diffusion_loss(model, s, x0, None, prediction, t, noise), loss)  # given draws: the same loss
