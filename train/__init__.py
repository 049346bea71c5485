"""skelzs.train: dataset preparation, zero-shot splits, the training loop, ZSL/GZSL evaluation
and the procedural motion library behind ``skelzs-train``."""
