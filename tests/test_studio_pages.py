"""The web studio, page by page, driven by Streamlit's AppTest (set inputs, press buttons, read the
page), on tiny runs trained once for the module; and one end-to-end test in a real headless Chromium."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from genlab.app.i18n import t
from genlab.app.launch import CHROMIUM, launch_chromium, running_studio
from genlab.app.settings import environment
from genlab.data import embedded_mnist
from genlab.registry import get_recipe
from genlab.train.engine import train
from genlab.utils.images import to_uint8

APP = str(Path(__file__).resolve().parents[1] / "src" / "genlab" / "app" / "studio.py")
QUIET = {"progress": "false", "tensorboard": "false"}
#: tiny versions of the models the pages use (keys a model does not have are dropped)
TINY = {
    "text2image": {
        "steps": 12,
        "batch_size": 32,
        "clip_embed_dim": 16,
        "clip_image_widths": "8,16",
        "clip_text_width": 32,
        "clip_text_layers": 1,
        "vae_hidden": "64",
        "latent_dim": 4,
        "refiner_width": 4,
        "refiner_blocks": 1,
        "d_width": 8,
        "unet_channels": 4,
        "unet_mults": "1,2",
        "eval_per_prompt": 1,
        "sample_steps": 2,
        "refiner_batch": 16,
        "diffusion_batch": 16,
    },
    "clip": {
        "steps": 3,
        "batch_size": 64,
        "image_widths": "8,16",
        "embed_dim": 16,
        "text_width": 32,
        "text_layers": 1,
        "text_heads": 2,
        "text_ff": 32,
        "warmup": 0,
    },
    "vae": {"steps": 30, "batch_size": 64, "arch": "mlp", "hidden": "64", "latent_dim": 8, "eval_samples": 0},
    "ddpm": {
        "steps": 3,
        "batch_size": 16,
        "base_channels": 4,
        "channel_mults": "1,2",
        "attention": "false",
        "eval_samples": 20,
        "sample_steps": 2,
    },
    "protonet": {"steps": 3, "ways": 5, "hidden": 8, "eval_episodes": 3},
    "qlearning": {"steps": 2000, "final_eval_episodes": 5, "eval_every": 0},
}


def tiny(model: str) -> dict:
    fields = {f.name for f in dataclasses.fields(get_recipe(model).Config)}
    return {k: v for k, v in {**TINY[model], **QUIET}.items() if k in fields}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("studio-runs")
    for model in TINY:
        train(model, "quick", tiny(model), out=root / f"tiny-{model}")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in environment(root, train=False).items():
            mp.setenv(k, v)
        mp.setenv("GENLAB_ZOO", str(root / "no-zoo"))  # the user's runs alone (the zoo has a test of its own)
        yield root


def page(name: str):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120).run()
    at.switch_page(f"views/{name}.py").run()
    return ok(at)


def ok(at):
    """No exception reached the page."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> str:
    return " | ".join(str(e.value) for e in elements)


def captions(at) -> list[str]:
    return [c for el in at.image for c in el.captions]


def charts(at) -> list:
    return [el for el in at.get("arrow_vega_lite_chart")] + [el for el in at.get("vega_lite_chart")]


def png(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return buf.getvalue()


def digit_png(i: int) -> bytes:
    return png(to_uint8(embedded_mnist().x_test[i : i + 1])[0])


# ----------------------------------------------------------------------------- pages
def test_text_to_image_generates_stages_and_download(runs):
    at = page("text_to_image")
    at.text_input(key="t2i-prompt").set_value("a thin 4")
    at.slider(key="t2i-n").set_value(8)
    at.slider(key="t2i-candidates").set_value(2)
    at.checkbox(key="t2i-stages").check()
    ok(at.button(key="t2i-generate").click().run())
    assert not at.error, texts(at.error)
    assert "8 images for “a thin 4”" in texts(at.success)
    caps = captions(at)
    assert any("base" in c for c in caps) and any("refined" in c for c in caps), caps
    assert at.download_button, "no PNG download"


def test_text_to_image_bad_prompts_give_messages_and_the_page_keeps_working(runs):
    at = page("text_to_image")
    for bad, expect in (("   ", "empty"), ("x" * 1_000_000, "characters long")):
        at.text_input(key="t2i-prompt").set_value(bad)
        ok(at.button(key="t2i-generate").click().run())
        assert expect in texts(at.error), texts(at.error)
    at.text_input(key="t2i-prompt").set_value("@@@ ###")  # nothing a model reads: a message or pictures, never a crash
    ok(at.button(key="t2i-generate").click().run())
    assert at.error or at.success
    at.text_input(key="t2i-prompt").set_value("the digit 8")
    ok(at.button(key="t2i-generate").click().run())
    assert not at.error and "images for “the digit 8”" in texts(at.success)


def test_image_search_by_text_and_by_upload(runs):
    at = page("search")
    at.text_input(key="search-text").set_value("a bold seven")
    at.slider(key="search-k").set_value(5)
    ok(at.button(key="search-go").click().run())
    caps = captions(at)
    assert len(caps) == 5 and all(c.split(" · ")[0].replace(".", "").lstrip("-").isdigit() for c in caps), caps
    assert (runs / ".studio" / "gallery").is_dir() and len(list((runs / ".studio" / "gallery").glob("*.png"))) == 1000
    at.radio(key="search-mode").set_value("image").run()
    at.file_uploader(key="search-upload").set_value(("seven.png", digit_png(7), "image/png"))
    ok(at.button(key="search-go").click().run())
    assert not at.error and len(captions(at)) == 5


def test_image_search_refuses_bad_uploads_and_folders_outside(runs, tmp_path, bomb_png):
    at = page("search")
    at.radio(key="search-mode").set_value("image").run()
    cases = [(b"just some text, not an image\n", "not a readable image"), (bomb_png(20_000), "pixels"), (b"", "empty")]
    for data, expect in cases:
        at.file_uploader(key="search-upload").set_value(("upload.png", data, "image/png"))
        ok(at.button(key="search-go").click().run())
        assert expect in texts(at.error), texts(at.error)
    at.radio(key="search-source").set_value("folder").run()
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (runs / "link-out").symlink_to(outside)
    for folder in ("/etc", str(runs / ".." / "x"), str(runs / "link-out")):
        at.text_input(key="search-folder").set_value(folder)
        ok(at.button(key="search-build").click().run())
        assert "outside the folders" in texts(at.error), (folder, texts(at.error))
    (runs / "link-out").unlink()
    at.text_input(key="search-folder").set_value(str(runs / ".studio" / "gallery"))
    ok(at.button(key="search-build").click().run())
    assert "Indexed 1000 images" in texts(at.success), texts(at.error)


def test_zero_shot_classifies_with_edited_class_names(runs):
    at = page("zero_shot")
    at.text_area(key="zs-classes").set_value("seven, one, zero")
    ok(at.button(key="zs-go").click().run())
    assert not at.error, texts(at.error)
    assert at.metric[0].value in ("seven", "one", "zero")
    assert charts(at)
    at.text_area(key="zs-classes").set_value("seven")
    ok(at.button(key="zs-go").click().run())
    assert "at least two class names" in texts(at.error)
    at.radio(key="zs-source").set_value("upload").run()
    at.file_uploader(key="zs-upload").set_value(
        ("paper.png", png(255 - to_uint8(embedded_mnist().x_test[:1])[0]), "image/png")
    )
    at.text_area(key="zs-classes").set_value("zero, one")
    ok(at.button(key="zs-go").click().run())
    assert not at.error and at.metric[0].value in ("zero", "one")


def test_latent_explorer_interpolates_and_explains_missing_models(runs):
    at = page("latent")
    at.slider(key="lat-t").set_value(0.25)
    at.radio(key="lat-method").set_value("slerp")
    ok(at.run())
    caps = captions(at)
    assert any("t = 0.25" in c for c in caps) and any("decoded with your code" in c for c in caps), caps
    assert "genlab train dae" in texts(at.info)  # no dae run: the denoising tab says how to get one


def test_generators_side_by_side_with_sampler_steps(runs):
    at = page("generators")
    at.slider(key="gen-n").set_value(4)
    at.slider(key="gen-steps").set_value(3)
    ok(at.button(key="gen-go").click().run())
    caps = captions(at)
    assert any(c.startswith("vae — ") for c in caps) and any("dpm++2m, 3 steps" in c for c in caps), caps
    assert at.dataframe


def test_diffusion_viewer_forward_and_reverse(runs):
    at = page("diffusion")
    at.slider(key="dif-t").set_value(500)
    at.selectbox(key="dif-sampler").set_value("ddim")
    ok(at.run())
    at.slider(key="dif-steps-ddim").set_value(5)
    ok(at.button(key="dif-go").click().run())
    assert not at.error, texts(at.error)
    at.slider(key="dif-i").set_value(2)
    ok(at.run())
    caps = captions(at)
    assert "x_0 · x_500" in caps and "after step 2 of 4" in caps, caps


def test_rl_plays_an_episode_and_shows_the_learning_curve(runs):
    at = page("rl")
    at.slider(key="rl-frames").set_value(50)
    ok(at.button(key="rl-play").click().run())
    assert not at.error, texts(at.error)
    caps = captions(at)
    assert any(c.startswith("return ") for c in caps), caps
    assert charts(at)


def test_fewshot_episode_and_own_support_images(runs):
    at = page("fewshot")
    at.slider(key="fs-ways").set_value(5)
    ok(at.button(key="fs-go").click().run())
    assert not at.error, texts(at.error)
    assert at.metric[0].value.endswith("of 5")
    at.file_uploader(key="fs-own-up-0").set_value([(f"z{i}.png", digit_png(i), "image/png") for i in (0, 1)])
    at.file_uploader(key="fs-own-up-1").set_value([(f"o{i}.png", digit_png(i), "image/png") for i in (100, 101)])
    at.file_uploader(key="fs-own-q").set_value(
        [("q.png", digit_png(2), "image/png"), ("bad.png", b"GIF89a broken", "image/png")]
    )
    ok(at.button(key="fs-own-go").click().run())
    assert "bad.png is not a readable image" in texts(at.error)
    at.file_uploader(key="fs-own-q").set_value([("q.png", digit_png(2), "image/png")])
    ok(at.button(key="fs-own-go").click().run())
    assert not at.error
    caps = captions(at)
    assert any(c.startswith(("class 1 · ", "class 2 · ")) for c in caps), caps


def test_runs_page_lists_compares_and_shows_pictures(runs):
    at = page("runs")
    table = at.dataframe[0].value
    assert set(f"tiny-{m}" for m in TINY) <= set(table[t("runs.col_run", "en")]), table
    at.selectbox(key="runs-one").set_value("tiny-vae")
    ok(at.run())
    assert "final.png" in captions(at)
    at.selectbox(key="runs-a").set_value("tiny-vae")
    at.selectbox(key="runs-b").set_value("tiny-vae")
    ok(at.run())


def test_every_page_explains_what_is_missing_in_an_empty_runs_folder(tmp_path, monkeypatch):
    for k, v in environment(tmp_path, train=False).items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("GENLAB_ZOO", str(tmp_path / "no-zoo"))  # no pretrained models either
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120).run()
    for name in ("text_to_image", "search", "zero_shot", "latent", "generators", "diffusion", "rl", "fewshot", "runs"):
        ok(at.switch_page(f"views/{name}.py").run())
        assert not at.error and "genlab train" in texts(at.info), (name, texts(at.info))


# ----------------------------------------------------------------------------- a real browser
@pytest.fixture
def studio(runs):
    with running_studio(runs, "--no-train") as server:
        yield server.url


@pytest.fixture
def chromium(tmp_path):
    """A page in a real headless Chromium (Debian's, driven by playwright)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch_chromium(p, tmp_path / "profile", 1280, 1400)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_text_to_image_in_a_real_headless_chromium(studio, chromium):
    pg = chromium
    pg.goto(studio, timeout=60_000)
    prompt = pg.get_by_label("Prompt", exact=True).and_(pg.get_by_role("textbox"))
    prompt.wait_for(timeout=60_000)
    prompt.fill("a bold 3")
    prompt.press("Enter")
    pg.get_by_role("button", name="Generate").click()
    pg.get_by_text("images for “a bold 3”").wait_for(timeout=60_000)
    shot = pg.screenshot(full_page=True)
    img = np.asarray(Image.open(io.BytesIO(shot)).convert("L"), dtype=np.float32)
    assert img.std() > 10, "the screenshot is blank"


#: page -> (catalogue key of the button to press or None, Russian text that shows the page's result)
RUSSIAN_PAGES = {
    "text_to_image": ("common.generate", "по запросу «жирная 7»"),
    "search": ("search.go", t("search.top", "ru", n=8)),
    "zero_shot": ("common.classify", t("zs.prediction", "ru")),
    "latent": (None, "декодировано при t"),
    "generators": ("common.generate", re.compile(r"— \d+ мс")),
    "diffusion": ("dif.go", "после шага"),
    "rl": ("rl.play", "отдача "),
    "fewshot": ("fs.go", t("fs.correct", "ru")),
    "runs": (None, "config.yaml"),
}
#: the studio's screenshots in Russian go here when GENLAB_SCREENSHOTS is set (docs/screenshots/ru)
SHOTS = os.environ.get("GENLAB_SCREENSHOTS")


def small_png(shot: bytes, path: Path, width: int = 800) -> None:
    """A screenshot shrunk to ``width`` pixels and palette-compressed (docs stay light)."""
    im = Image.open(io.BytesIO(shot)).convert("RGB")
    if im.width > width:
        im = im.resize((width, round(im.height * width / im.width)), Image.Resampling.LANCZOS)
    path.parent.mkdir(parents=True, exist_ok=True)
    im.quantize(colors=64).save(path, optimize=True)


def test_the_studio_in_russian_in_a_real_headless_chromium(studio, chromium):
    """Switch to Russian in the sidebar, generate from a Russian prompt, then visit every page through
    the Russian menu (the choice survives page changes): results appear and no English text of the
    catalogue is left on any page."""
    from genlab.app.i18n import untranslated

    pg = chromium
    pg.goto(studio, timeout=60_000)
    pg.get_by_role("heading", name=t("t2i.title", "en")).wait_for(timeout=60_000)
    pg.get_by_role("combobox", name=t("app.language", "en")).click()
    pg.get_by_role("option", name="Русский").click()
    pg.get_by_role("heading", name=t("t2i.title", "ru")).wait_for(timeout=60_000)
    assert "lang=ru" in pg.url
    prompt = pg.get_by_label(t("t2i.prompt", "ru"), exact=True).and_(pg.get_by_role("textbox"))
    prompt.fill("жирная 7")  # a Russian prompt the model reads (its digit) with or without Russian words
    prompt.press("Enter")
    for name, (button, result) in RUSSIAN_PAGES.items():
        if name != "text_to_image":
            pg.get_by_role("link", name=t(f"nav.{name}", "ru")).click()
            pg.get_by_role("heading", name=t(f"nav.{name}", "ru")).wait_for(
                timeout=60_000
            )  # a page's title is its menu entry
        pg.wait_for_timeout(1000)  # the page's first run settles before its button is pressed
        if button is not None:
            pg.get_by_role("button", name=t(button, "ru")).first.click()
        pg.get_by_text(result).first.wait_for(timeout=120_000)
        if name != "runs":  # the page's pictures arrive (every page but the runs table shows some)
            pg.wait_for_function(
                "() => [...document.images].some(i => i.complete && i.naturalWidth >= 28)", timeout=60_000
            )
        pg.wait_for_function("() => [...document.images].every(i => i.complete && i.naturalWidth > 0)", timeout=60_000)
        body = pg.inner_text("body")
        assert not untranslated(body), (name, untranslated(body))
        assert "Sorry" not in body and "Traceback" not in body, name
        shot = pg.screenshot(full_page=True)
        assert np.asarray(Image.open(io.BytesIO(shot)).convert("L"), dtype=np.float32).std() > 10, f"{name}: blank"
        if SHOTS:
            small_png(shot, Path(SHOTS) / f"{name}.png")


def test_concurrent_websocket_users_each_get_their_images(studio):
    """Browser-less users speaking Streamlit's websocket protocol to the real server, at the same time
    (the load bench's client): every request is answered with its own prompt's pictures."""
    import asyncio

    from genlab.app.studio_client import StudioSession, generate

    async def user(i: int) -> list:
        session = await StudioSession.open(studio)
        try:
            return [
                await generate(session, prompt, seed=i, n=4, timeout=120)
                for prompt in (f"a thin {i}", f"the digit {i + 5}")
            ]
        finally:
            await session.close()

    async def everyone():
        return await asyncio.gather(*(user(i) for i in range(3)))

    results = [r for rs in asyncio.run(everyone()) for r in rs]
    assert len(results) == 6 and [problem for _, problem in results] == [None] * 6, results


def test_a_drawing_is_placed_like_an_mnist_digit():
    from genlab.app.preprocess import center_digit

    canvas = np.zeros((280, 280), np.float32)
    assert center_digit(canvas) is None
    canvas[200:260, 10:40] = 1.0  # a small stroke in the lower-left corner
    x = center_digit(canvas)
    rows, cols = np.nonzero(x > 0.1)
    assert x.shape == (28, 28) and rows.max() - rows.min() + 1 == 20  # longest side scaled to 20 pixels
    cy, cx = (np.arange(28) @ x.sum(1)) / x.sum(), (np.arange(28) @ x.sum(0)) / x.sum()
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1  # centre of mass in the middle


def test_zero_shot_classifies_a_digit_drawn_on_the_canvas_in_chromium(studio, chromium):
    pg = chromium
    pg.goto(f"{studio}/zero_shot", timeout=60_000)
    pg.get_by_text("Draw a digit").click(timeout=60_000)
    canvas = pg.locator("canvas.upper-canvas")  # the drawing component's input layer
    canvas.wait_for(timeout=60_000)
    pg.wait_for_timeout(500)
    box = canvas.bounding_box()
    pg.mouse.move(box["x"] + 90, box["y"] + 60)  # a 7: the bar, then the stem
    pg.mouse.down()
    for x, y in ((190, 60), (170, 120), (140, 230)):
        pg.mouse.move(box["x"] + x, box["y"] + y, steps=8)
    pg.mouse.up()
    pg.get_by_text("input (28 x 28").wait_for(timeout=60_000)  # the drawing reached the server as a digit
    pg.get_by_role("button", name="Classify").click()
    pg.get_by_text("Prediction").wait_for(timeout=60_000)
    assert not pg.get_by_text("Sorry").count()


# ----------------------------------------------------------------------------- the pretrained models
#: page -> (catalogue key of the button to press or None, English text that shows the page's result)
ZOO_PAGES = {
    "text_to_image": ("common.generate", "images for “a bold 3”"),
    "search": ("search.go", t("search.top", "en", n=8)),
    "zero_shot": ("common.classify", t("zs.prediction", "en")),
    "latent": (None, "decoded at t"),
    "generators": ("common.generate", re.compile(r"— \d+ ms")),
    "diffusion": ("dif.go", "after step"),
    "rl": ("rl.play", "return "),
    "fewshot": ("fs.go", t("fs.correct", "en")),
}
PAGE_SECONDS = 15  # what a first visitor waits at most for a page's result


@pytest.fixture
def zoo_studio(tmp_path):
    """`genlab studio` as a new user starts it: an empty runs folder, an empty cache, the shipped zoo."""
    import genlab.zoo.manifest as zoo

    if not zoo.available(Path(zoo.__file__).parent):  # the shipped zoo, whatever GENLAB_ZOO says here
        pytest.fail("the package ships no pretrained model (build them with 'genlab pretrained build')")
    env = {**os.environ, "GENLAB_CACHE": str(tmp_path / "cache")}
    env.pop("GENLAB_ZOO", None)
    with running_studio(tmp_path / "runs", env=env) as server:
        yield server.url, tmp_path / "runs"


def test_every_page_answers_from_the_pretrained_models_on_a_fresh_machine(zoo_studio, chromium):
    """A new user's studio: nothing trained, nothing cached. Every page shows its result within
    PAGE_SECONDS of being opened, from the pretrained models, and no training starts."""
    url, runs = zoo_studio
    pg = chromium
    pg.goto(url, timeout=60_000)
    prompt = pg.get_by_label(t("t2i.prompt", "en"), exact=True).and_(pg.get_by_role("textbox"))
    prompt.wait_for(timeout=PAGE_SECONDS * 1000)
    prompt.fill("a bold 3")
    prompt.press("Enter")
    for name, (button, result) in ZOO_PAGES.items():
        t0 = time.time()
        if name != "text_to_image":
            pg.get_by_role("link", name=t(f"nav.{name}", "en")).click()
            pg.get_by_role("heading", name=t(f"nav.{name}", "en")).wait_for(timeout=PAGE_SECONDS * 1000)
        pg.wait_for_timeout(500)  # the page's first run settles before its button is pressed
        if button is not None:
            pg.get_by_role("button", name=t(button, "en")).first.click()
        pg.get_by_text(result).first.wait_for(timeout=PAGE_SECONDS * 1000)
        pg.wait_for_function(
            "() => [...document.images].some(i => i.complete && i.naturalWidth >= 28)", timeout=PAGE_SECONDS * 1000
        )
        body = pg.inner_text("body")
        assert "genlab train" not in body and "Traceback" not in body, (name, body[:500])
        assert time.time() - t0 < PAGE_SECONDS + 1, f"{name}: {time.time() - t0:.1f} s"
    assert not [p for p in runs.glob("studio-*")], "nothing is trained when the zoo has every model"
