"""Chapter 5.6: meta-learning and few-shot learning on Omniglot (and MNIST or image folders).

- :mod:`episodes`: class-disjoint pools, seeded N-way K-shot episodes, rotations and affine augmentation
- :mod:`nets`: the Conv-4 encoder, prototypes, squared-euclidean logits
- :mod:`protonet`, :mod:`maml`, :mod:`finetune`: the three recipes (``genlab train protonet|maml|finetune``)
- :mod:`benchmark`: Lake et al.'s 20-run one-shot benchmark (reader, evaluator, fixture writer)
- :mod:`support`: few-shot prediction for user images (``genlab fewshot RUN --support DIR --query IMG...``)
"""
