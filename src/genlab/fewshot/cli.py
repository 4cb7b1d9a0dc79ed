"""`genlab fewshot RUN --support DIR --query IMG...`: classify images from a few examples per class."""

from __future__ import annotations

import json

from genlab.errors import GenlabError
from genlab.utils.cliargs import positive_int


def cmd_fewshot(a):
    from genlab.fewshot.base import FewShotRecipe
    from genlab.fewshot.support import predict_images
    from genlab.train.engine import load_run

    recipe, store, _ = load_run(a.run, device=a.device)
    if not isinstance(recipe, FewShotRecipe):
        raise GenlabError(
            f"{a.run} is a '{recipe.name}' run; few-shot prediction needs a protonet, maml or finetune run"
        )
    results = predict_images(recipe, a.support, a.query, a.shots)
    if a.json:
        print(json.dumps({"run": str(store.path), "predictions": results}, sort_keys=True))
        return
    for r in results:
        print(f"{r['query']}: {r['label']} (p={r['probs'][r['label']]:.3f})")


def register(sub) -> None:
    p = sub.add_parser(
        "fewshot",
        help="classify images from a few labelled examples (few-shot runs)",
        description="Classify query images among the classes of a support folder (one subfolder of example images per class) with a trained protonet, maml or finetune run.",
    )
    p.add_argument("run", metavar="RUN_DIR")
    p.add_argument(
        "--support", required=True, metavar="DIR", help="folder with one subfolder of example images per class"
    )
    p.add_argument("--query", required=True, nargs="+", metavar="IMG", help="images to classify")
    p.add_argument("--shots", type=positive_int, help="use the first K images of every class (default: all)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=cmd_fewshot)
