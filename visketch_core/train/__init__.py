"""Training: one loop (schedules, clipping, checkpoints, DDP), one entry per model."""
