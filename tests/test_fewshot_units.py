"""Few-shot building blocks: episodes, splits, prototypes, the MAML inner loop, the benchmark format."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from genlab.errors import GenlabError
from genlab.fewshot.benchmark import ink_points, mhd_runs_error, modified_hausdorff, read_run, write_omniglot_runs
from genlab.fewshot.episodes import HOLDOUT_ALPHABETS, FewShotData, iter_episodes, load_fewshot_data, step_generator
from genlab.fewshot.maml import MAMLNet, inner_loop
from genlab.fewshot.nets import INK_RADIUS, Conv4, normalize_ink, prototypes, sq_euclidean_logits
from genlab.fewshot.support import load_support_folder


@pytest.fixture(scope="module")
def omniglot():
    return load_fewshot_data("omniglot", 28, 1)


def test_omniglot_split_by_alphabet(omniglot):
    train, test = omniglot
    held = {c.split("/")[0] for c in test.classes}
    assert held == set(HOLDOUT_ALPHABETS)
    assert not held & {c.split("/")[0] for c in train.classes}
    assert train.n_classes + test.n_classes == 242 and test.n_classes == 46
    assert (train.counts == 20).all() and (test.counts == 20).all()
    rot = train.with_rotations()
    assert rot.n_classes == 4 * train.n_classes and len(rot) == 4 * len(train)
    first = rot.members[train.n_classes][0]  # class 0 turned by 90 degrees
    assert torch.equal(rot.x[first], torch.rot90(train.x[train.members[0][0]], 1, dims=(1, 2)))
    every, none = load_fewshot_data("omniglot", 28, 1, holdout=())  # for the official runs: train on all eight
    assert every.n_classes == 242 and none.n_classes == 0


@pytest.mark.parametrize("ways,shots,queries", [(5, 1, 15), (20, 5, 3), (3, 2, 0)])
def test_episode_shapes_labels_and_determinism(omniglot, ways, shots, queries):
    test = omniglot[1]
    ep = test.sample_episode(ways, shots, queries, torch.Generator().manual_seed(1))
    assert ep.support_x.shape == (ways * shots, 1, 28, 28) and ep.query_x.shape == (ways * queries, 1, 28, 28)
    assert torch.equal(torch.bincount(ep.support_y, minlength=ways), torch.full((ways,), shots))
    again = test.sample_episode(ways, shots, queries, torch.Generator().manual_seed(1))
    assert torch.equal(ep.support_x, again.support_x) and torch.equal(ep.query_y, again.query_y)
    # support and query images of a class are distinct drawings of the same character
    for c in range(ways):
        s = ep.support_x[ep.support_y == c]
        for q in ep.query_x[ep.query_y == c]:
            assert not any(torch.equal(q, si) for si in s)


def test_hard_episodes_come_from_one_alphabet(omniglot):
    test = omniglot[1]
    g = torch.Generator().manual_seed(0)
    for _ in range(5):
        ep = test.sample_episode(20, 1, 1, g, hard=True)
        alphabets = set()
        for c in range(20):
            x = ep.support_x[ep.support_y == c][0]
            idx = int(torch.nonzero((test.x == x).flatten(1).all(1))[0])
            alphabets.add(test.classes[int(test.y[idx])].split("/")[0])
        assert len(alphabets) == 1


def test_episode_errors_are_one_line(omniglot):
    test = omniglot[1]
    with pytest.raises(GenlabError, match="at least 21 images"):
        test.sample_episode(5, 20, 1, torch.Generator())
    with pytest.raises(GenlabError, match="only 46 of 46"):
        next(iter_episodes(test, 50, 1, 1, 1))


def test_step_generator_is_a_pure_function_of_seed_step_rank():
    a = torch.rand(3, generator=step_generator(0, 17))
    assert torch.equal(a, torch.rand(3, generator=step_generator(0, 17)))
    assert not torch.equal(a, torch.rand(3, generator=step_generator(0, 18)))
    assert not torch.equal(a, torch.rand(3, generator=step_generator(0, 17, rank=1)))


def test_prototypes_do_not_need_a_sorted_support_set():
    torch.manual_seed(0)
    emb, labels = torch.randn(12, 8), torch.arange(4).repeat(3)  # interleaved: 0,1,2,3,0,1,...
    q = torch.randn(5, 8)
    protos = prototypes(emb, labels, 4)
    for c in range(4):
        assert torch.allclose(protos[c], emb[labels == c].mean(0))
    perm = torch.randperm(12)
    assert torch.allclose(
        sq_euclidean_logits(q, prototypes(emb[perm], labels[perm], 4)), sq_euclidean_logits(q, protos), atol=1e-5
    )
    assert torch.allclose(sq_euclidean_logits(q, protos), -(torch.cdist(q, protos) ** 2), atol=1e-4)


def test_conv4_shapes():
    x = torch.rand(4, 1, 28, 28)
    assert Conv4()(x).shape == (4, 64) and Conv4().out_dim(28) == 64
    assert Conv4(pool_last=False)(x).shape == (4, 576) and Conv4(pool_last=False).out_dim(28) == 576
    assert not list(Conv4(track_bn=False).buffers())  # MAML: no running statistics


def ink_moments(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Centroid (x, y) and RMS radius of each image's ink, in half-widths."""
    mass = x.sum((1, 2, 3))[:, None]
    u = torch.linspace(-1, 1, x.shape[-1])
    px, py = x.sum((1, 2)) / mass, x.sum((1, 3)) / mass
    cx, cy = px @ u, py @ u
    return cx, cy, (px @ u**2 - cx**2 + py @ u**2 - cy**2).sqrt()


def test_ink_normalisation_centres_and_sizes_the_ink(omniglot):
    """ "center" puts the ink's centroid in the middle; "moments" also gives it one RMS radius, so a
    character moved or drawn smaller comes out (nearly) as the original does."""
    x = omniglot[0].x[::97][:64]  # characters of every alphabet
    cx, cy, r = ink_moments(x)
    assert cx.abs().median() > 0.03 and r.std() > 0.03  # the raw drawings wander and vary in size
    cx, cy, r = ink_moments(normalize_ink(x, "center"))
    assert float(torch.cat([cx, cy]).abs().max()) < 0.02
    cx, cy, r = ink_moments(normalize_ink(x, "moments"))
    assert float(torch.cat([cx, cy]).abs().max()) < 0.02 and float((r - INK_RADIUS).abs().median()) < 0.01
    moved = torch.roll(x, shifts=(2, -3), dims=(2, 3))
    small = F.interpolate(x, scale_factor=0.75, mode="bilinear", align_corners=False)
    small = F.pad(small, [3, 4, 4, 3])  # 21 -> 28 pixels, off centre
    base = normalize_ink(x, "moments")
    assert float((normalize_ink(moved, "moments") - base).abs().mean()) < 0.02 < float((moved - x).abs().mean())
    assert float((normalize_ink(small, "moments") - base).abs().mean()) < 0.5 * float(
        (normalize_ink(small, "none") - x).abs().mean()
    )
    assert (
        torch.equal(normalize_ink(x, "none"), x)
        and normalize_ink(torch.zeros(2, 1, 28, 28), "moments").abs().max() == 0
    )
    with pytest.raises(GenlabError, match="ink_norm must be one of"):
        Conv4(ink_norm="scale")


def test_maml_inner_loop_uses_adapted_parameters_and_second_order_terms():
    torch.manual_seed(0)
    net = MAMLNet(1, 8, 28, 3)
    x, y, xq, yq = (
        torch.rand(6, 1, 28, 28),
        torch.arange(3).repeat(2),
        torch.rand(6, 1, 28, 28),
        torch.arange(3).repeat(2),
    )
    params = dict(net.named_parameters())
    adapted = inner_loop(net, params, x, y, 0.5, 2, create_graph=True)
    before = F.cross_entropy(torch.func.functional_call(net, params, (x,)), y)
    after = F.cross_entropy(torch.func.functional_call(net, adapted, (x,)), y)
    assert after < before  # the inner steps fit the support set, and the forward really uses them

    def meta_grad(create_graph):
        p = inner_loop(net, dict(net.named_parameters()), x, y, 0.5, 2, create_graph)
        loss = F.cross_entropy(torch.func.functional_call(net, p, (xq,)), yq)
        return torch.autograd.grad(loss, list(net.parameters()))

    second, first = meta_grad(True), meta_grad(False)
    assert all(torch.isfinite(g).all() for g in second)
    assert max(float((a - b).abs().max()) for a, b in zip(second, first)) > 1e-6


def test_fixture_runs_have_the_official_format(tmp_path):
    root = write_omniglot_runs(tmp_path / "runs", n_runs=4)
    assert sorted(p.name for p in root.iterdir()) == ["run01", "run02", "run03", "run04"]
    lines = (root / "run01" / "class_labels.txt").read_text().splitlines()
    assert len(lines) == 20 and lines[0].startswith("run01/test/item01.png run01/training/class")
    img = Image.open(root / "run01" / "training" / "class01.png")
    assert img.mode == "1" and img.size == (105, 105)
    a = np.asarray(img.convert("L"))
    assert a.mean() > 128  # white background, black ink
    training, pairs = read_run(root, "run01")
    assert len(training) == 20 and len(pairs) == 20 and sorted(c for _, c in pairs) == list(range(20))


def test_modified_hausdorff_baseline(tmp_path):
    a, b = torch.tensor([[0.0, 0.0], [0.0, 1.0]]), torch.tensor([[0.0, 0.0], [0.0, 3.0]])
    assert modified_hausdorff(a, a) == 0.0
    assert modified_hausdorff(a, b) == modified_hausdorff(b, a) == 1.0  # max(mean(0, 1), mean(0, 2))
    root = write_omniglot_runs(tmp_path / "runs", n_runs=2)
    for run in ("run01", "run02"):  # test items replaced by their class's own training image: no errors
        for test, c in read_run(root, run)[1]:
            test.write_bytes(read_run(root, run)[0][c].read_bytes())
    assert mhd_runs_error(root)["mean_error"] == 0.0
    page = np.full((105, 105), 255, np.uint8)
    for name, (r, c) in {"near.png": (10, 12), "far.png": (60, 70)}.items():  # one stroke drawn at two places
        drawn = page.copy()
        drawn[r : r + 20, c : c + 3] = 0
        Image.fromarray(drawn).save(tmp_path / name)
    near, far = ink_points(tmp_path / "near.png"), ink_points(tmp_path / "far.png")
    assert torch.equal(near, far) and modified_hausdorff(near, far) == 0.0  # centred, as Lake et al.'s baseline
    Image.fromarray(page).save(root / "run01" / "test" / "item01.png")  # a blank page
    with pytest.raises(GenlabError, match="no ink"):
        mhd_runs_error(root)


def _png(path, value=0):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((28, 28), value, np.uint8)).save(path)


def test_support_folder_bad_input(tmp_path):
    one = tmp_path / "one"
    _png(one / "a" / "1.png")
    with pytest.raises(GenlabError, match="at least 2 classes"):
        load_support_folder(one)
    empty = tmp_path / "empty"
    _png(empty / "a" / "1.png")
    (empty / "b").mkdir()
    with pytest.raises(GenlabError, match="is empty"):
        load_support_folder(empty)
    ok = tmp_path / "ok"
    for c in "ab":
        _png(ok / c / "1.png")
        _png(ok / c / "2.png", 255)
    x, y, names = load_support_folder(ok)
    assert x.shape == (4, 1, 28, 28) and y.tolist() == [0, 0, 1, 1] and names == ["a", "b"]
    with pytest.raises(GenlabError, match="has 2 image"):
        load_support_folder(ok, shots=3)
    (ok / "b" / "notes.txt").write_text("hello")
    with pytest.raises(GenlabError, match="not an image file"):
        load_support_folder(ok)
    (ok / "b" / "notes.txt").unlink()
    (ok / "b" / "broken.png").write_bytes(b"not a png")
    with pytest.raises(GenlabError, match="not a readable image"):
        load_support_folder(ok)


def test_folder_and_mnist_pools_hold_out_whole_classes(tmp_path):
    train, test = load_fewshot_data("mnist", 28, 1)
    assert train.classes == ["zero", "one", "two", "three", "four"] and len(test.classes) == 5
    for c in range(8):
        for i in range(3):
            _png(tmp_path / "f" / f"class{c}" / f"{i}.png", 30 * c)
    train, test = load_fewshot_data(str(tmp_path / "f"), 28, 1)
    assert train.n_classes == 6 and test.n_classes == 2 and not set(train.classes) & set(test.classes)
    with pytest.raises(GenlabError, match="omniglot"):
        load_fewshot_data("nonsense", 28, 1)
    with pytest.raises(GenlabError, match="not in the shipped"):
        load_fewshot_data("omniglot", 28, 1, holdout=("Klingon",))
    assert isinstance(train, FewShotData)


def test_protonet_ensemble_adds_up_its_members_distances():
    from genlab.registry import get_recipe
    from genlab.train.engine import build_config

    cls = get_recipe("protonet")
    recipe = cls(build_config(cls, "quick", {"ensemble": 2}), "cpu")
    g = torch.Generator().manual_seed(0)
    sx, sy, qx = (
        torch.rand(6, 1, 28, 28, generator=g),
        torch.tensor([2, 0, 1, 0, 1, 2]),
        torch.rand(4, 1, 28, 28, generator=g),
    )
    with recipe.inference(), torch.no_grad():
        parts = [recipe.episode_logits(m, sx, sy, qx, 3) for m in recipe.members]
        total = recipe.classify(sx, sy, qx, 3)
    assert len(parts) == 2 and not torch.allclose(parts[0], parts[1])  # two differently initialised encoders
    assert torch.allclose(total, parts[0] + parts[1], rtol=1e-4, atol=1e-3)
    with pytest.raises(GenlabError, match="ensemble must be at least 1"):
        cls(build_config(cls, "quick", {"ensemble": 0}), "cpu")


def test_test_shift_embeds_images_as_the_mean_of_their_shifted_copies():
    from genlab.fewshot.nets import prototypes, shifted_copies, sq_euclidean_logits
    from genlab.registry import get_recipe
    from genlab.train.engine import build_config

    x = torch.zeros(2, 1, 7, 7)
    x[0, 0, 3, 3], x[1, 0, 5, 2] = 1.0, 2.0
    copies = shifted_copies(x, 1)
    assert copies.shape == (18, 1, 7, 7) and torch.equal(shifted_copies(x, 0), x)
    # offset by offset (2 images each): the first moves the content one pixel down-right, the last up-left
    assert copies[0, 0, 4, 4] == 1.0 and copies[1, 0, 6, 3] == 2.0 and copies[16, 0, 2, 2] == 1.0
    assert torch.equal(copies[8:10], x)  # the middle offset is the image itself

    cls = get_recipe("protonet")
    recipe = cls(build_config(cls, "quick", {"test_shift": 1}), "cpu")
    g = torch.Generator().manual_seed(0)
    sx, sy, qx = torch.rand(3, 1, 28, 28, generator=g), torch.tensor([1, 0, 2]), torch.rand(4, 1, 28, 28, generator=g)
    enc = recipe.nets["encoder"]

    def mean_of_copies(images):
        return torch.stack([enc(v) for v in shifted_copies(images, 1).split(len(images))]).mean(0)

    with recipe.inference(), torch.no_grad():
        expected = sq_euclidean_logits(mean_of_copies(qx), prototypes(mean_of_copies(sx), sy, 3))
        assert torch.allclose(recipe.classify(sx, sy, qx, 3), expected, rtol=1e-4, atol=1e-3)
        assert len(recipe._cache) == 7  # each image embedded once ...
        assert torch.allclose(recipe.classify(qx[:3], sy, sx, 3), recipe.classify(qx[:3], sy, sx, 3))
        assert len(recipe._cache) == 7  # ... and reused
    recipe.train_step(None, 0)  # new weights: the cache starts afresh
    with recipe.inference(), torch.no_grad():
        assert torch.allclose(
            recipe.classify(sx, sy, qx, 3),
            sq_euclidean_logits(mean_of_copies(qx), prototypes(mean_of_copies(sx), sy, 3)),
            rtol=1e-4,
            atol=1e-3,
        )
    with pytest.raises(GenlabError, match="test_shift must be between 0 and 13"):
        cls(build_config(cls, "quick", {"test_shift": 14}), "cpu")
