"""The fast path of diffusion sampling: :class:`FastDenoiser`, a drop-in for the plain
:class:`~genlab.diffusion.samplers.Denoiser` that gives the samplers the same images, faster.

Two speed pieces, both opt-in (the DDPM recipe and the text-to-image pipeline opt in; the
samplers know nothing of them):

- a chunked network call: on a CPU with several torch threads, a batch of at least
  2 x ``MIN_CHUNK`` images is cut into one chunk per thread and the chunks run side by side in
  single-threaded workers (:func:`genlab.utils.runtime.single_thread_pool`). A small U-Net scales
  poorly when each op is split across cores; every image sees the same operations either way,
  so the output is the same as the plain denoiser's;
- ``bf16=True``: the network runs under bfloat16 autocast on a copy whose convolution and linear
  weights are stored in bfloat16 (:func:`with_bf16_weights`), so they are not re-cast at every call.

``tests/test_diffusion_parts.py`` holds both to the plain denoiser.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from genlab.diffusion.samplers import Denoiser
from genlab.utils.runtime import single_thread_pool

MIN_CHUNK = 16  # images per worker, at least, when a network call is split across threads


def with_bf16_weights(model: nn.Module) -> nn.Module:
    """A copy of ``model`` whose convolution and linear weights are stored in bfloat16. Under
    bfloat16 autocast these are cast to bfloat16 at every call anyway, so the copy computes the
    same numbers (bit for bit) without re-casting ~80 tensors per call; the norms keep float32
    weights, as autocast runs them in float32."""
    out = copy.deepcopy(model)
    for m in out.modules():
        if isinstance(m, (nn.modules.conv._ConvNd, nn.Linear)):
            m.to(torch.bfloat16)
    return out


class FastDenoiser(Denoiser):
    """:class:`Denoiser` with the network call split across threads and, with ``bf16``, run under
    bfloat16 autocast on bf16 weights (the output back in float32)."""

    def __init__(self, model, *args, bf16: bool = False, **kwargs):
        """The plain :class:`Denoiser`'s arguments, and ``bf16``."""
        super().__init__(with_bf16_weights(model) if bf16 else model, *args, **kwargs)
        self.bf16 = bf16

    def network(self, x: torch.Tensor, t: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        workers = min(torch.get_num_threads(), len(x) // MIN_CHUNK) if x.device.type == "cpu" else 1
        if workers < 2:
            return self._network(x, t, labels)
        chunks = zip(
            x.chunk(workers), t.chunk(workers), labels.chunk(workers) if labels is not None else [None] * workers
        )
        pool = single_thread_pool(workers)
        return torch.cat([f.result() for f in [pool.submit(self._network, *c) for c in chunks]])

    def _network(self, x, t, labels) -> torch.Tensor:
        # inference mode is per thread: each worker enters it itself
        with torch.inference_mode(), torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=self.bf16):
            return self.model(x, t, labels).float()
