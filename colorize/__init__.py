"""colorize: turn black-and-white photos into colour photos with a neural network."""

import os

# TensorFlow prints dozens of C++ info lines on import; users need none of them.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
