"""Data: fixed splits, augmentations, the preprocessed cache and the PyTorch dataset."""
