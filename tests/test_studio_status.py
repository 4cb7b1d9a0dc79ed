"""The studio's shared helpers outside a running page: the trainer's status line and the layout of
the helper modules (status, models, preprocess and the page furniture in ui)."""

from __future__ import annotations

import math

from genlab.app.i18n import t
from genlab.app.status import describe_training


def test_training_line_only_while_the_trainer_works():
    progress = {"fraction": 0.4, "loss": 0.1234, "step": 1200, "steps": 3000}
    line = describe_training({"running": True, "current": "text2image", "progress": progress})
    assert line == t(
        "ui.training",
        model="text2image",
        fraction="40%",
        loss=t("ui.training_loss", loss="0.123"),
        step="1,200",
        steps="3,000",
    )
    no_loss = describe_training({"running": True, "current": "ddpm", "progress": {**progress, "loss": math.nan}})
    assert t("ui.training_loss", loss="0.123") not in no_loss and "ddpm" in no_loss
    assert describe_training({"running": False, "current": "ddpm", "progress": progress}) is None
    assert describe_training({"running": True, "current": None}) is None


def test_each_helper_has_one_home():
    from genlab.app import models, preprocess, status, ui

    assert ui.center_digit is preprocess.center_digit  # the drawing canvas centres with it
    assert models.waiting_message is status.waiting_message
    for name in ("load", "pick_run", "runs_eval", "describe_training", "sidebar_status", "start_trainer"):
        assert not hasattr(ui, name), name
