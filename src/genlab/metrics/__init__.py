"""Metrics: one shared yardstick for every family.

- ``evaluator``: genlab's own MNIST CNN (what FID & co. are measured with; read its docstring)
- ``quality``: FID (+ its floor), KID, IS, precision/recall, coverage, class entropy, label accuracy
- ``reconstruction``: MSE, PSNR, SSIM, pixel mass lost, evaluator accuracy on reconstructions
- ``likelihood``: the IWAE bound (``iwae_nll``) for VAEs
- ``families``: few-shot accuracy +- 95 % CI, retrieval Recall@K, RL return statistics
- ``samples``: checked loading of ``genlab eval --samples`` arrays; ``report``: ``genlab report``
"""
