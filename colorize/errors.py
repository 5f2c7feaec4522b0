"""Typed errors. Computational modules raise these with a sentence a user can act
on; only the front ends (cli, wizard) turn them into a red line."""


class ColorizeError(Exception):
    """Base of every error the user should see as one line, not a traceback."""


class UsageError(ColorizeError):
    """A setting that cannot work (epochs 0, an image size not divisible, ...)."""


class HintError(UsageError):
    """A hint file (points JSON or painted image) that is malformed or does not fit its photo."""


class DatasetError(ColorizeError):
    """A dataset path that is missing, empty, unsafe, or has too few usable images."""


class UnsafeArchiveError(DatasetError):
    """A zip that escapes its folder or would unpack to too much."""


class ModelError(ColorizeError):
    """A model file that is missing, not a model, weights only, or of unusable shape."""


class OutputError(ColorizeError):
    """An output that cannot be written (disk full, read-only, would overwrite)."""


# Exit codes of every front end (README, "What colorize promises"): they belong with the errors they
# report, so the CLI and the wizard both take them from here.
EXIT_OK = 0                 # done
EXIT_USER_ERROR = 1         # a ColorizeError (or anything unexpected, logged): one red line
EXIT_USAGE = 2              # bad usage (argparse)
EXIT_INTERRUPTED = 130      # Ctrl-C (128 + SIGINT, as shells report it)
