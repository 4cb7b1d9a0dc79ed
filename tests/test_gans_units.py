"""GAN building blocks: losses, network shapes (book defects fixed), stroke thickness, domains."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from genlab.errors import GenlabError
from genlab.gans.base import adversarial_update
from genlab.gans.losses import get_loss, r1_penalty
from genlab.gans.nets import (
    BookDiscriminator,
    BookGenerator,
    ConvDiscriminator,
    ConvGenerator,
    minibatch_stddev,
    upsampling_plan,
)
from genlab.gans.strokes import stroke_thickness, thin_bold_split


def test_losses_reward_a_discriminator_that_tells_real_from_fake():
    good_real, good_fake = torch.full((8,), 5.0), torch.full((8,), -5.0)
    for name in ("bce", "ns", "minimax", "hinge", "lsgan"):
        loss = get_loss(name)
        real, fake = (good_real, good_fake) if name != "lsgan" else (torch.ones(8), torch.zeros(8))
        assert loss.d(real, fake) < loss.d(fake, real), name
        assert loss.g(fake) > loss.g(real), name  # G's loss is high while D sees through its images
        assert [float(a) for a in loss.accuracies(real, fake)] == [1.0, 1.0]
    assert float(get_loss("hinge").d(good_real, good_fake)) == 0.0
    with pytest.raises(GenlabError, match="unknown GAN loss"):
        get_loss("wasserstein-ish")


def test_minimax_generator_gradient_vanishes_where_non_saturating_does_not():
    fake = torch.tensor([-8.0], requires_grad=True)  # D is sure the image is fake
    g_ns = torch.autograd.grad(get_loss("ns").g(fake), fake)[0].abs()
    g_mm = torch.autograd.grad(get_loss("minimax").g(fake), fake)[0].abs()
    assert g_ns > 0.99 and g_mm < 1e-3


def test_r1_penalty_is_the_squared_input_gradient():
    x = torch.randn(4, 1, 5, 5, requires_grad=True)
    scores = 3.0 * x.flatten(1).sum(1)  # dD/dx = 3 everywhere
    assert torch.isclose(r1_penalty(scores, x), torch.tensor(9.0 * 25))


def test_book_discriminator_measures_its_flattened_size_and_uses_bn_momentum():
    d = BookDiscriminator(1, 28)
    assert d.head.in_features == 128 * 2 * 2  # 28 -> 14 -> 7 -> 4 -> 2, not 28 // 16 = 1
    bns = [m for m in d.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(bns) == 3 and all(m.eps == 1e-5 and m.momentum == 0.2 for m in bns)
    assert d(torch.rand(3, 1, 28, 28)).shape == (3,)
    g = BookGenerator(100, 1, 28)
    out = g(torch.randn(3, 100))
    assert out.shape == (3, 1, 28, 28) and out.abs().max() <= 1


@pytest.mark.parametrize("channels,size", [(1, 28), (3, 32), (3, 64)])
def test_networks_fit_any_channels_and_size(channels, size):
    g = ConvGenerator(16, channels, size, width=32, num_classes=10)
    d = ConvDiscriminator(channels, size, width=32, num_classes=10)
    y = torch.tensor([0, 9])
    x = g(torch.randn(2, 16), y)
    assert x.shape == (2, channels, size, size)
    assert d(x, y).shape == (2,)
    assert BookDiscriminator(channels, size)(x).shape == (2,)
    assert BookGenerator(16, channels, size)(torch.randn(2, 16)).shape == x.shape


def test_conditioning_options_and_minibatch_stddev():
    g = ConvGenerator(16, 1, 28, width=32, num_classes=10, class_bn=True)
    d = ConvDiscriminator(1, 28, width=32, num_classes=10, classifier=True, mbstd_group=4)
    y = torch.arange(8) % 10
    score, logits = d(g(torch.randn(8, 16), y), y, with_logits=True)
    assert score.shape == (8,) and logits.shape == (8, 10)
    assert d(torch.zeros(3, 1, 28, 28), y[:3]).shape == (3,)  # a batch the group does not divide is one group
    same, varied = torch.ones(8, 5, 2, 2), torch.randn(8, 5, 2, 2)
    assert minibatch_stddev(same, 4)[:, -1].abs().max() < 1e-3 < minibatch_stddev(varied, 4)[:, -1].min()
    assert minibatch_stddev(varied, 4).shape == (8, 6, 2, 2)


def test_unsupported_image_size_is_a_clear_error():
    assert upsampling_plan(28) == (7, 2) and upsampling_plan(64) == (4, 4)
    with pytest.raises(GenlabError, match="multiple of 4"):
        ConvGenerator(16, 1, 30)


def test_stroke_thickness_follows_the_stroke_width():
    bars = torch.zeros(4, 28, 28)
    for i, w in enumerate((1, 2, 4, 6)):
        bars[i, 10 : 10 + w, 2:26] = 1
    t = stroke_thickness(bars)
    assert (t.diff() > 0).all() and 0.8 < t[0] < 1.2 and 3.2 < t[2] < 4.2
    assert stroke_thickness(torch.zeros(1, 1, 28, 28)).item() == 0
    assert torch.allclose(stroke_thickness((bars * 255).to(torch.uint8).numpy()), t)


def test_thin_and_bold_domains_are_disjoint_and_differ_in_thickness():
    from genlab.data.datasets import embedded_mnist

    x = embedded_mnist().x_train
    a, b = thin_bold_split(x)
    assert len(set(a.tolist()) & set(b.tolist())) == 0 and len(a) == len(b) == len(x) // 6
    ta, tb = stroke_thickness(x[a]).mean(), stroke_thickness(x[b]).mean()
    assert tb > ta + 0.8
    dilated = F.max_pool2d(x[a], 3, stride=1, padding=1)
    assert stroke_thickness(dilated).mean() > ta + 1


def test_diff_augment_moves_and_blanks_digits_and_passes_gradients():
    from genlab.gans.augment import cutout, diff_augment, parse_policy, translation

    x = -torch.ones(64, 1, 28, 28)  # images in [-1, 1]: a bright 8x8 square on the background
    x[:, :, 10:18, 10:18] = 1
    moved = translation(x)
    assert ((moved > 0).sum((1, 2, 3)) == 64).all()  # a shift of at most 4 px keeps the square whole
    assert len({tuple(torch.nonzero(m[0] > 0)[0].tolist()) for m in moved}) > 10  # ... at many places
    blanked = cutout(x)
    assert (blanked >= -1).all() and ((blanked > 0).sum((1, 2, 3)) < 64).any()  # holes filled with the background
    assert set(blanked.unique().tolist()) == {-1.0, 1.0}
    x.requires_grad_(True)
    diff_augment(x, parse_policy("translation,cutout")).sum().backward()
    assert x.grad.abs().sum() > 0  # the generator learns through the augmentation
    assert parse_policy("") == [] == parse_policy("none")
    assert parse_policy("translation+cutout") == parse_policy("translation,cutout") == [translation, cutout]
    with pytest.raises(GenlabError, match="unknown augmentation"):
        parse_policy("translation,colour")


def test_extra_conv_blocks_keep_the_shapes():
    g, d = ConvGenerator(16, 1, 28, width=32, blocks=1), ConvDiscriminator(1, 28, width=32, blocks=1)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in g.modules()) == 2
    assert d(g(torch.randn(3, 16))).shape == (3,)


def test_adversarial_update_steps_the_discriminator_then_the_generator_alone():
    torch.manual_seed(0)
    G, D = torch.nn.Linear(3, 4), torch.nn.Linear(4, 1)
    opts = {"d": torch.optim.SGD(D.parameters(), lr=0.1), "g": torch.optim.SGD(G.parameters(), lr=0.1)}
    d_before = [p.detach().clone() for p in D.parameters()]
    calls = []

    def optimize(name, loss):
        calls.append(name)
        opts[name].zero_grad()
        loss.backward()
        opts[name].step()

    real, fake = torch.randn(8, 4), G(torch.randn(8, 3))
    loss = get_loss("lsgan")
    up = adversarial_update(
        optimize, D, loss, real, fake, lambda x: D(x).squeeze(1), g_extra=lambda adv, _: adv + fake.abs().mean()
    )
    assert calls == ["d", "g"]
    d_grads = [p.grad.clone() for p in D.parameters()]
    # D's step saw the fake images detached, and G's step left D's weights and gradients alone
    assert all(not torch.equal(a, b.detach()) for a, b in zip(d_before, D.parameters()))
    assert all(torch.equal(a, p.grad) for a, p in zip(d_grads, D.parameters()))
    assert torch.isclose(up.g_loss, up.g_adv + fake.abs().mean().detach())
    assert torch.isclose(up.d_loss, loss.d(up.s_real, up.s_fake))
