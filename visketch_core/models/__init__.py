"""Models: attention layers, the context encoder, the classifier, checkpoints."""
