"""What every few-shot recipe shares: the config, seeded training episodes, held-out
evaluation (accuracy with a 95% confidence interval), Lake et al.'s one-shot runs, prediction.

A few-shot recipe trains on episodes it samples itself (``uses_dataset = False``): the episode
of step s depends only on (seed, s, rank), so a resumed run continues exactly. Subclasses
implement ``train_step`` and ``classify(support_x, support_y, query_x, ways) -> logits``.
Accuracies and errors are in percent.
"""

from __future__ import annotations

import contextlib
import math
import tempfile
from dataclasses import dataclass

import torch

from genlab.config import TrainConfig
from genlab.errors import GenlabError
from genlab.fewshot.episodes import (
    HOLDOUT_ALPHABETS,
    Episode,
    FewShotData,
    iter_episodes,
    load_fewshot_data,
    step_generator,
)
from genlab.train.recipe import Option, Recipe
from genlab.utils.cliargs import positive_int

EVAL_SEED = 2024  # held-out episodes are the same for every model and run


@dataclass
class FewShotConfig(TrainConfig):
    data: str = "omniglot"  # omniglot | mnist | folder with one subfolder per class
    ways: int = 5  # classes per training episode
    shots: int = 1  # support images per class (training, and the final evaluation)
    queries: int = 5  # query images per class in training episodes
    holdout: tuple[str, ...] = HOLDOUT_ALPHABETS  # Omniglot alphabets kept for evaluation
    rotations: bool = True  # 90/180/270-degree rotations of training classes as new classes
    affine: float = 0.0  # strength of random affine distortions of training images (0: off)
    hard: float = 0.0  # fraction of training episodes drawn from one alphabet where possible
    ink_norm: str = "none"  # none | center | moments: the encoder's inputs centred (and zoomed) on their ink
    eval_episodes: int = 200  # held-out episodes for the final evaluation


def mean_ci95(values) -> tuple[float, float]:
    """Mean and half-width of the normal 95% confidence interval, 1.96 * std / sqrt(n)."""
    v = torch.as_tensor(values, dtype=torch.float64)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(1.96 * v.std() / math.sqrt(len(v)))


class FewShotRecipe(Recipe):
    family = "fewshot"
    uses_dataset = False
    Config = FewShotConfig
    options = (
        Option("ways", positive_int, "classes per episode", ("train", "eval")),
        Option("shots", positive_int, "examples per class", ("train", "eval")),
        Option("episodes", positive_int, "held-out evaluation episodes", ("eval",)),
        Option("omniglot_runs", str, "folder with Lake et al.'s 20 one-shot runs", ("eval",)),
    )

    _pools: tuple[FewShotData, FewShotData] | None = None
    _runs: tempfile.TemporaryDirectory | None = None

    # -- data ---------------------------------------------------------------------------
    @property
    def pools(self) -> tuple[FewShotData, FewShotData]:
        """(training pool, held-out pool); rotations are added to the training classes only."""
        if self._pools is None:
            train, test = load_fewshot_data(self.cfg.data, self.cfg.image_size, self.cfg.channels, self.cfg.holdout)
            self._pools = (train.with_rotations() if self.cfg.rotations else train, test)
        return self._pools

    def generator(self, step: int) -> torch.Generator:
        return step_generator(self.cfg.seed, step, self.dist.rank)

    def train_episode(self, step: int, g: torch.Generator | None = None) -> Episode:
        """The training episode(s) of a step come from a generator seeded by (seed, step, rank)."""
        g = g or self.generator(step)
        hard = bool(self.cfg.hard) and float(torch.rand(1, generator=g)) < self.cfg.hard
        ep = self.pools[0].sample_episode(
            self.cfg.ways, self.cfg.shots, self.cfg.queries, g, hard=hard, affine=self.cfg.affine
        )
        return Episode(
            ep.support_x.to(self.device),
            ep.support_y.to(self.device),
            ep.query_x.to(self.device),
            ep.query_y.to(self.device),
            ep.ways,
        )

    # -- what a few-shot model implements -----------------------------------------------
    def classify(
        self, support_x: torch.Tensor, support_y: torch.Tensor, query_x: torch.Tensor, ways: int
    ) -> torch.Tensor:
        """Logits (Q, ways) for the queries, given labelled support images (labels 0..ways-1, any order)."""
        raise NotImplementedError

    # -- evaluation and prediction ----------------------------------------------------
    @contextlib.contextmanager
    def inference(self):
        was = {k: m.training for k, m in self.nets.items()}
        self.train_mode(False)
        try:
            yield
        finally:
            for k, m in self.nets.items():
                m.train(was[k])

    def predict(self, support_x, support_y, query_x, ways: int | None = None) -> torch.Tensor:
        """Class probabilities (Q, ways) of the queries."""
        ways = ways or int(support_y.max()) + 1
        with self.inference():
            logits = self.classify(support_x.to(self.device), support_y.to(self.device), query_x.to(self.device), ways)
        return torch.softmax(logits.detach(), 1).cpu()

    def episode_accuracy(self, episodes) -> list[float]:
        """Percent of correctly classified queries, one value per episode."""
        accs = []
        for ep in episodes:
            probs = self.predict(ep.support_x, ep.support_y, ep.query_x, ep.ways)
            accs.append(100.0 * float((probs.argmax(1) == ep.query_y).float().mean()))
        return accs

    def _held_out_accuracy(
        self, ways: int = 5, shots: int = 1, episodes: int = 600, queries: int | None = None, seed: int = EVAL_SEED
    ) -> dict:
        """Accuracy (percent) with a 95% confidence interval on held-out classes."""
        test = self.pools[1]
        if not test.n_classes:
            raise GenlabError(
                "this run held out no classes (trained with an empty holdout): score it on one-shot runs with --omniglot-runs DIR"
            )
        if queries is None:  # 15 per class, fewer when the ways-th largest class is smaller
            kth = int(test.counts.sort(descending=True).values[min(ways, test.n_classes) - 1])
            queries = max(1, min(15, kth - shots))
        test.check(ways, shots + queries, "held-out evaluation episodes")
        mean, ci = mean_ci95(self.episode_accuracy(iter_episodes(test, ways, shots, queries, episodes, seed)))
        return {"accuracy": mean, "ci95": ci, "ways": ways, "shots": shots, "queries": queries, "episodes": episodes}

    def runs_error(self) -> float | None:
        """Error (percent) on 20 one-shot runs in Lake et al.'s format built from the held-out
        alphabets (the same runs every time); None unless the data is Omniglot with held-out
        alphabets of at least 20 characters."""
        from genlab.fewshot.benchmark import evaluate_omniglot_runs, write_omniglot_runs

        held_out = self.pools[1]
        if self.cfg.data != "omniglot" or not held_out.n_classes or int(torch.bincount(held_out.groups).min()) < 20:
            return None
        if self._runs is None:
            self._runs = tempfile.TemporaryDirectory(prefix="genlab-oneshot-runs-")
            write_omniglot_runs(self._runs.name, tuple(self.cfg.holdout))
        return evaluate_omniglot_runs(self, self._runs.name)["mean_error"]

    def periodic_eval(self, step: int) -> dict:
        """With ``eval_every``: the error curve on the one-shot runs (no 'score': nothing is
        selected on held-out classes)."""
        err = self.runs_error()
        return {} if err is None else {"runs_error": err}

    def evaluate(
        self,
        data=None,
        ways: int | None = None,
        shots: int | None = None,
        episodes: int | None = None,
        omniglot_runs: str | None = None,
        seed: int = EVAL_SEED,
    ) -> dict:
        """Held-out accuracy in percent (``genlab eval RUN [--ways N --shots K --episodes E]``).

        Without options: the report of the end of training, the error on the one-shot runs built
        from the held-out alphabets (Omniglot) and the 5-way and 20-way accuracy with the trained
        number of shots. With ``ways``, ``shots`` or ``episodes``: that one setting (5, 1 and 600 by
        default) on held-out episodes drawn from ``seed``. With ``omniglot_runs``: Lake et al.'s
        fixed 20-way 1-shot benchmark in that folder."""
        if omniglot_runs is not None:
            if ways is not None or shots is not None or episodes is not None:
                raise GenlabError(
                    "--omniglot-runs is Lake et al.'s fixed 20-way 1-shot benchmark; drop --ways/--shots/--episodes"
                )
            from genlab.fewshot.benchmark import evaluate_omniglot_runs

            return evaluate_omniglot_runs(self, omniglot_runs)
        if ways is not None or shots is not None or episodes is not None:
            return self._held_out_accuracy(ways or 5, shots or 1, episodes or 600, seed=seed)
        return self._report()

    def _report(self) -> dict:
        """The final evaluation of training: one-shot runs error and the 5- and 20-way accuracy."""
        out = {"model": self.name}
        err = self.runs_error()
        if err is not None:
            out["runs_error"] = err
        test = self.pools[1]
        for ways in (5, 20):
            if int((test.counts >= self.cfg.shots + 1).sum()) >= ways:
                r = self._held_out_accuracy(ways, self.cfg.shots, self.cfg.eval_episodes)
                tag = f"{ways}way_{self.cfg.shots}shot"
                out[f"accuracy_{tag}"], out[f"ci95_{tag}"] = r["accuracy"], r["ci95"]
        return out
