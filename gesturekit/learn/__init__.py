"""Learned classifiers: labelled landmark datasets, features, training, evaluation, model files."""

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

__all__ = ["DATASET_FORMAT", "DatasetWriter", "Sample", "SampleArrays", "dataset_info", "iter_samples",
           "processed_sources", "read_dataset"]
