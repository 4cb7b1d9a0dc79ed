"""Datasets and loaders: the embedded MNIST, IDX/NPZ files, image folders, Omniglot."""

from genlab.data.datasets import ImageData, embedded_mnist, list_datasets, load_dataset  # noqa: F401
