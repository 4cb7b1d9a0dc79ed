"""Model registry: a name on the command line -> the recipe class that trains it.

Entries are import strings, so ``genlab --help`` stays fast and one family's import cannot
break another's. A new model adds one line here.
"""

from __future__ import annotations

import importlib
import importlib.util

from genlab.errors import GenlabError

MODELS: dict[str, str] = {
    # chapter 5.1 / 5.2
    "ae": "genlab.autoencoders.ae:AERecipe",
    "dae": "genlab.autoencoders.dae:DAERecipe",
    "sparse-ae": "genlab.autoencoders.sparse:SparseAERecipe",
    "vae": "genlab.autoencoders.vae:VAERecipe",
    "beta-vae": "genlab.autoencoders.vae:BetaVAERecipe",
    "cvae": "genlab.autoencoders.cvae:CVAERecipe",
    # chapter 5.3
    "dcgan": "genlab.gans.dcgan:DCGANRecipe",
    "cgan": "genlab.gans.cgan:CGANRecipe",
    "stylegan": "genlab.gans.stylegan:StyleGANRecipe",
    "cyclegan": "genlab.gans.cyclegan:CycleGANRecipe",
    # chapter 5.4
    "ddpm": "genlab.diffusion.recipe:DDPMRecipe",
    # chapter 5.5
    "qlearning": "genlab.rl.qlearning:QLearningRecipe",
    "dqn": "genlab.rl.dqn:DQNRecipe",
    "reinforce": "genlab.rl.reinforce:ReinforceRecipe",
    "a2c": "genlab.rl.a2c:A2CRecipe",
    # chapter 5.6
    "protonet": "genlab.fewshot.protonet:ProtoNetRecipe",
    "maml": "genlab.fewshot.maml:MAMLRecipe",
    "finetune": "genlab.fewshot.finetune:FinetuneRecipe",
    # chapter 5.7 and the final project
    "clip": "genlab.multimodal.clip:CLIPRecipe",
    "text2image": "genlab.pipelines.text2image_recipe:Text2ImageRecipe",
}


def _exists(target: str) -> bool:
    module = target.split(":")[0]
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # parent package missing
        return False


def available_models() -> list[str]:
    """Models whose module is present in this installation."""
    return [name for name, target in MODELS.items() if _exists(target)]


def get_recipe(name: str):
    target = MODELS.get(name)
    if target is None or not _exists(target):
        raise GenlabError(f"unknown model '{name}'; choose one of: {', '.join(available_models())}")
    module, cls = target.split(":")
    return getattr(importlib.import_module(module), cls)
