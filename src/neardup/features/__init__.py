"""Features: exact hashes, perceptual hashes and copy-detection embeddings, from one decode."""

from neardup.features.extract import FEATURES_VERSION, FeatureConfig, extract_batch

__all__ = ["FEATURES_VERSION", "FeatureConfig", "extract_batch"]
