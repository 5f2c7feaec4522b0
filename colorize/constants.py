"""Every tunable constant in one place: image limits, Lab ranges, default paths."""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# `default` means the data folder beside the package (editable install is the
# supported way; a wheel install has no data/ and says so).
PROJECT_DIR = PACKAGE_DIR.parent
DATA_DIR = PROJECT_DIR / "data"
DEFAULT_DATASET_DIR = DATA_DIR / "default"
DEFAULT_MODEL_PATH = DATA_DIR / "models" / "default.keras"
DEFAULT_OUTPUT_DIR = Path("OUTPUT")
OUTPUT_ENV_VAR = "COLORIZE_OUTPUT"
ERROR_LOG_NAME = "colorize-error.log"

# Images
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")
JUNK_NAMES = (".ds_store", "thumbs.db", "desktop.ini")
JUNK_DIRS = ("__macosx",)
MIN_TRAIN_SIDE = 32          # shorter side below this is `too_small` for training
MAX_IMAGE_PIXELS = 100_000_000  # above this an image is a decompression bomb
# Mean absolute difference between colour channels (0..255 scale) below which an
# RGB image counts as grayscale: JPEG noise on a B&W scan stays under ~2.
GRAYSCALE_CHANNEL_TOLERANCE = 3.0

# Zips
MAX_ZIP_TOTAL_BYTES = 4 * 1024**3   # total uncompressed
MAX_ZIP_RATIO = 200                 # uncompressed / compressed, per member

# CIE Lab ranges (D65). L in [0, 100]; ab in about [-128, 127]. The model sees
# L scaled to [-1, 1] and predicts ab scaled by AB_SCALE into [-1, 1].
L_MAX = 100.0
AB_SCALE = 110.0

# Dataset split
VALIDATION_FRACTION = 0.2
DEFAULT_SEED = 42

# Wizard prompts: an answer longer than this is refused, not parsed (a pasted
# paragraph or a 10000-character line is a mistake, never a path or a count).
MAX_ANSWER_CHARS = 1000
