"""Training: the run folder, the strategy and devices, the stock-callback loop, multi-worker and self-training."""
