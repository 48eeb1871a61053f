"""Learned classifiers: labelled landmark datasets, features, training, evaluation, model files.

``load_model(path_or_name) -> LearnedModel`` (``predict(keypoints, keypoints3d, handedness, sizes)
-> (labels, scores)``, ``.card``), ``train_model(arrays, ...)``, :class:`LearnedClassifier` (the
``type: learned`` classifier), importers in :mod:`gesturekit.learn.importers`, evaluation in
:mod:`gesturekit.learn.evaluate`.
"""

from gesturekit.learn.augment import Augment, augment, parse_augment
from gesturekit.learn.classifier import LearnedClassifier
from gesturekit.learn.dataset import (
    DATASET_FORMAT,
    DatasetWriter,
    Sample,
    SampleArrays,
    dataset_info,
    iter_samples,
    processed_sources,
    read_dataset,
)
from gesturekit.learn.linear import LinearPipeline, linear_from_sklearn
from gesturekit.learn.model import (
    ALLOWED_TYPES,
    MODEL_FORMAT,
    NONE,
    LearnedModel,
    load_model,
    read_card,
    shipped_models,
    train_model,
)

__all__ = ["DATASET_FORMAT", "DatasetWriter", "Sample", "SampleArrays", "dataset_info", "iter_samples",
           "processed_sources", "read_dataset", "Augment", "augment", "parse_augment", "LearnedClassifier",
           "ALLOWED_TYPES", "MODEL_FORMAT", "NONE", "LearnedModel", "load_model", "read_card", "shipped_models",
           "train_model", "LinearPipeline", "linear_from_sklearn"]
