"""The tunable constants that more than one module reads, or that a person may want to change in one place:
paths, image and zip limits, Lab ranges, the evaluation's figures, predict's working sizes, the training
schedule, self-training.

Not every number lives here. Defaults the front ends offer are in defaults.py
(and the preset table with the ranges of training settings in
models/presets.py). Numbers private to one algorithm stay beside it, explained
there: the ab-class grid of Zhang et al. (models/ab_classes.py),
EfficientNet-Lite0's fixed architecture and weight-file format
(models/encoder.py), the U-Net's activation slope (models/model.py), the hint branch's width and
reach (models/hint_model.py), the teacher's confidence scale
(training/pseudolabel.py), the loader's seed offsets (dataset/loader.py), the
colour hints' patch and propagation (hints/sources.py, hints/propagation.py,
hints/feature_edges.py), how many points where-to-hint suggests and how far
apart (hints/advice.py), ensemble's no-hue
guard (inference/ensemble.py), file-format facts (dataset/classify.py, dataset/imagefile.py,
dataset/archive.py), grid and summary layout (evaluation/report.py), how much
of TensorFlow's captured stderr a failed device start shows (training/devices.py).
The front ends keep their prompt bounds and display limits (frontends/wizard.py,
frontends/wizard_questions.py, frontends/reporting.py), frontends/interrupts.py how long a
Ctrl-C may go unnoticed at a question, and errors.py the exit codes.
"""

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
# `default` means the shipped data: the top-level data/ folder of a source
# checkout (an editable install reads it in place), which a wheel or a plain
# `pip install .` carries inside the package as colorize/data/ (pyproject.toml's
# package-dir). No copy lives in colorize/ in the repo, so the first folder that
# exists is the installed copy's.
PROJECT_DIR = PACKAGE_DIR.parent
DATA_DIR = next((folder for folder in (PACKAGE_DIR / "data", PROJECT_DIR / "data") if folder.is_dir()),
                PACKAGE_DIR / "data")
DEFAULT_DATASET_DIR = DATA_DIR / "default"
DEFAULT_MODEL_PATH = DATA_DIR / "models" / "default.keras"
DEFAULT_SAMPLES_DIR = DATA_DIR / "samples"     # black-and-white photos for a first `predict`
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
# ...and the 99th percentile of per-pixel chroma (max - min channel) must stay
# below this too: a colour object on a white page has a low mean chroma (6.0
# in the default set's palest photo) but a high peak (91), a B&W photo has neither.
GRAYSCALE_PEAK_TOLERANCE = 12.0
# The scanner decides on a reduced decode: JPEG DCT scaling down to about this
# many pixels on the shorter side (still reads the whole stream, so truncation
# shows); a 512x341 photo decodes at 1/8 scale, 64x43, in ~1 ms.
SCAN_PREVIEW_SIDE = 32
SCAN_WORKERS = 4             # decoding threads (Pillow releases the GIL); see bench_scan.py
SCAN_PROGRESS_DELAY_S = 2.0  # the CLI shows a progress bar only for scans longer than this

# Zips
MAX_ZIP_TOTAL_BYTES = 4 * 1024**3   # total uncompressed
MAX_ZIP_RATIO = 200                 # uncompressed / compressed, per member
# ...checked only for members at least this big: a small flat-colour BMP can
# deflate 1000:1 and is no threat; a bomb needs size to do harm.
MAX_ZIP_RATIO_MIN_BYTES = 1024**2

# CIE Lab ranges (D65). L in [0, 100]; ab in about [-128, 127]. The model sees
# L scaled to [-1, 1] and predicts ab scaled by AB_SCALE into [-1, 1].
L_MAX = 100.0
AB_SCALE = 110.0

# Evaluation (metrics.py). JSON cannot hold inf, so the PSNR of an exact copy
# is reported as this cap; the smallest non-zero error of a 1 MP uint8 image
# already gives ~113 dB, so 100 dB means "as good as identical".
PSNR_CAP_DB = 100.0
SSIM_WINDOW = 7              # skimage's default window; smaller images use their odd side
AUC_MAX_THRESHOLD = 150      # Zhang et al. 2016: ab error thresholds 0..150
AB_BIN_WIDTH = 10            # ground-truth ab bins for the rebalanced AuC (Zhang's grid)
AB_BIN_RANGE = 130           # ab bins cover -130..130, wider than the sRGB gamut
MAX_SIMULATED_HINTS = 1000   # evaluate --hints N: a simulated user's points per photo (Zhang 2017 go to ~100s)
EVALUATE_GRID_IMAGES = 8     # photos shown in evaluate's comparison grids
# Hue and green recall (issue 15). AuC rewards a safe beige; these ask Zhang et
# al. 2016's question directly: do vivid colours come back with the right hue?
# Below chroma 15 a pixel is a gray or a pale brown whose hue swings with noise
# and JPEG, so only pixels at least that vivid are judged. A prediction needs
# chroma 5 (about twice the just-noticeable Lab difference of 2.3) to count as
# coloured at all, which keeps gray (0) out; its hue may be 30 degrees off (a
# twelfth of the wheel: orange-red passes for red, yellow does not). Foliage is
# true hue 105..200 degrees, yellow-green to blue-green; atan2 gives -180..180,
# so that is 105..180 and -180..-160.
VIVID_CHROMA = 15.0
COLOURED_CHROMA = 5.0
HUE_TOLERANCE_DEGREES = 30.0
FOLIAGE_HUE_DEGREES = (105.0, 200.0)

# Prediction (predict.py, modelfile.py)
MODEL_SUFFIXES = (".keras", ".h5", ".hdf5")
WEIGHTS_ONLY_SUFFIX = ".weights.h5"
# Long side of the L image the model sees for models that take any size. The
# ab it predicts is upsampled and merged with the full-size L, so this sets
# colour detail, not sharpness (see BENCHMARKS.md for its cost).
PREDICT_LONG_SIDE = 256
# The predicted ab is smoothed along L's edges (guided_filter.py) with a window
# radius of this share of the working long side (8 px at 256) and this eps (L
# scaled to 0..1). Chosen on the shipped model's 51 validation photos with
# benchmarks/bench_chroma_smoothing.py (BENCHMARKS.md, at 3a929ff): raw ab
# scores SSIM 0.9159, below the gray baseline's 0.9210; at eps 0.01, radius
# 4, 8 and 16 px give 0.9211, 0.9229 and 0.9240 with a colourfulness gap of
# 20.8, 21.7 and 23.2 (raw 19.8), and eps 0.002 or 0.04 at 8 px 0.9227. 8 px
# clears the gray baseline's SSIM (4 px barely does) without 16 px's washed-out colour.
CHROMA_FILTER_RADIUS_SHARE = 1 / 32
CHROMA_FILTER_EPS = 0.01
# Images are grouped into one model call up to this many input pixels, so a
# batch of 12 MP photos holds one or two of them at a time, never eight.
PREDICT_BATCH_PIXELS = 16_000_000
# Lab -> RGB (and the ab's upsampling) runs in row strips of about this many
# pixels: skimage works in float64, so a whole 12 MP image at once would need
# ~1 GB of temporaries. 250,000 rather than 1,000,000: the 12 MP merge's peak
# fell ~60 MiB and it ran 0.39 s instead of 0.50 s (strips that stay in cache).
PREDICT_STRIP_PIXELS = 250_000
PREDICT_JPEG_QUALITY = 95    # JPEG inputs give JPEG outputs at this quality
PREDICT_GRID_IMAGES = 12     # photos shown in predict's comparison grids
PREDICT_GRID_ROWS = 4        # photos per grid page
# Films (inference/film.py, steady.py, issue 28). Told apart from photos by name
# alone, so `scan` never opens them; predict probes each with FFmpeg.
FILM_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm")
FILM_KEEP_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")   # hold H.264 as they are; others become NAME.mp4
FILM_CRF = 18                 # x264 quality: 18 is visually near lossless (0 lossless, 51 worst)
FILM_PRESET = "medium"        # x264's default speed/size trade-off
# x264's tune for grainy film: it keeps grain as grain instead of blotches that boil from
# frame to frame. bench_film.py (weight 0.2): flicker of 8x8 patches 0.48 ab with it, 0.61
# without; frame by frame 1.07 and 1.17; files 8% larger.
FILM_TUNE = "grain"
# x264's chroma QP offset: negative gives colour more bits, so less of the encoder's own
# chroma noise. bench_film.py's grainy colour truth through H.264, flicker per pixel (8x8):
# 0.763 (0.289) at 0, 0.728 (0.212) at -8; frame by frame 1.257 at 0, 1.264 at -8 (-2 to
# -6 gave 1.27-1.30, +4 1.39; -12 encodes as -8). Steady colour: see below. Files 5% larger.
FILM_CHROMA_QP_OFFSET = -8
FILM_SEGMENT_FRAMES = 240     # frames per finished part: a killed run loses at most this many
FILM_MAX_PIXELS = 7680 * 4320  # a frame above 8K is refused as an absurd size
# Steady colour, chosen with benchmarks/bench_film_steady.py (480x360, grain 6, shipped
# model, after H.264): flicker per pixel on bench_film.py's 3 panned shots, and hue recall
# where a photo's crop sliding over another photo just was (the ghost the average drags;
# frame by frame 1.264 and 98.7%). Weight / guard / chroma offset: 0.2/20/0 0.681, 92.8%;
# 0.2/20/-8 0.650, 92.9%; 0.1/20/-8 0.588, 90.9%; 0.1/10/-8 0.615, 95.6%; 0.1/6/-8 0.649,
# 97.3%. The guard looks at the 3x3 mean of the signed L change: grain moves L ~3 units
# a pixel and cancels in the mean, so the guard can sit at 10 without opening everywhere
# (on each pixel's change at 20, as before, weight 0.2 gave 0.694 in BENCHMARKS.md).
# Pan hue recall 33.4-33.7% for all (frame by frame 32.8%).
FILM_NEW_FRAME_WEIGHT = 0.1   # the new frame's share of the running ab average (1.0: frame by frame)
FILM_L_CHANGE = 10.0          # L units: where the 3x3 mean L change after the shift is this, the new ab wins
FILM_L_BOX = 3                # side, in working-size pixels, of the box the L change is averaged over
FILM_HISTOGRAM_BINS = 32
# Between frames of a panned shot the L histograms differ by at most 0.022 (grain 6 or
# 15); between consecutive photos of data/default (a cut) by 0.55 at the median, and
# below 0.1 for about 5% of pairs (min 0.04). A false cut only restarts the average.
FILM_CUT_DISTANCE = 0.1       # share of pixels changing L bin above which a frame starts a new shot
# Ensembles (ensemble.py): how several models' ab is combined. "keep" (the mean
# vector's hue, the members' mean chroma) beat "mean" in all 4 ensembles measured
# on the 42 held-out photos (benchmarks/bench_ensemble.py, BENCHMARKS.md) on hue
# recall, green recall, rebalanced AuC and colourfulness gap (shipped + previous
# model: 67.0 vs 65.2%, 54.7 vs 50.7%, 0.7175 vs 0.7162, 22.3 vs 23.9), and lost
# at most 0.11 dB PSNR and 0.0017 SSIM (23.05 vs 23.16 dB, 0.9346 vs 0.9363).
# The plain mean mutes colour where members disagree: colourfulness 25.8, below
# both members (29.9, 26.8); keep gives 27.7.
ENSEMBLE_CHROMA = ("keep", "mean")
DEFAULT_ENSEMBLE_CHROMA = "keep"
GRID_THUMBNAIL_SIDE = 320    # long side of each image in a grid

# Dataset split
VALIDATION_FRACTION = 0.2
DEFAULT_SEED = 42
# Each epoch validates on a fixed seeded sample of this many validation photos (all of
# them when there are fewer); the whole validation split is scored once, after training.
# A 20,000-photo set holds out 3,990 for validation: scoring all of them every epoch
# costs minutes an epoch on a CPU, while the monitor (ReduceLROnPlateau, EarlyStopping,
# the best checkpoint) only compares epochs with each other, and on the same photos
# every epoch that comparison is fair; a few hundred photos keep it from hinging on a
# handful of scenes. BENCHMARKS.md (issue 27) has its share of an epoch's time.
VALIDATION_SAMPLE_PHOTOS = 300

# Training run folder (runfolder.py; also callbacks.py, distributed.py, report.py): OUTPUT/models/<run>/...
MODEL_FILE_NAME = "model.keras"
MODEL_H5_FILE_NAME = "model.h5"
CONFIG_FILE_NAME = "config.json"
HISTORY_FILE_NAME = "history.csv"
SUMMARY_FILE_NAME = "summary.txt"
DIAGRAM_FILE_NAME = "model.png"
CURVES_FILE_NAME = "curves.png"
METRICS_FILE_NAME = "metrics.json"
BACKUP_DIR_NAME = "backup"                 # BackupAndRestore's folder: present = resumable
CHECKPOINT_FILE_NAME = "checkpoint.weights.h5"   # best (or last) epoch's weights while training
TENSORBOARD_DIR_NAME = "tensorboard"
# An epoch trains on at least this many random crops (the training photos are
# passed over several times when there are few): with 205 photos an epoch was
# 13 steps, and ReduceLROnPlateau (patience 3) halved the rate on noise down to
# 6e-5 by epoch 25 while the model still underfit. 640 crops is the epoch of
# the first feasibility run's (2 cores, 128 px).
MIN_CROPS_PER_EPOCH = 640
# For photos much larger than the crop, the crop is taken after scaling the
# shorter side to a random length between 1x and this many times the crop
# (loader.py; selftrain.py sizes the teacher's colourings to match), so a 128 px
# crop of a 4000x3000 photo shows a third to all of the scene's height (a
# recognisable object) rather than a few leaves at full resolution.
MAX_SCALE_OVER_CROP = 2.0
# Self-training (selftrain.py): each epoch takes this share of its crops from the
# teacher's pseudo-labelled photos (Xie et al. 2020 train on far more unlabelled
# than labelled images; with an album of a hundred or so photos, half is the
# even mix), and the student learns through this dropout before its head (their
# final-layer dropout; unlike the skip dropout of issue 15's run 2, it leaves
# the encoder's features whole).
UNLABELED_SHARE = 0.5
# Rounds of self-training (train --rounds and the wizard's question, both): each
# round is a whole training, and on the album measured round 2 added little over
# round 1 (BENCHMARKS.md, "Self-training"), so one round is the default; more than
# ten (ten whole trainings) is refused as a likely typo, as the wizard always did.
DEFAULT_ROUNDS = 1
MAX_ROUNDS = 10
PSEUDO_LABEL_WEIGHTS = ("confidence", "none")   # train --pseudo-label-weights
STUDENT_DROPOUT = 0.2
# The student's input noise beyond crops, flips and --noise: per-photo contrast
# scaled by up to this share and brightness shifted by up to this much of L's range.
STUDENT_CONTRAST_JITTER = 0.2
STUDENT_BRIGHTNESS_JITTER = 0.1
# Training schedule: halve the rate after 3 epochs without progress on the
# monitor, never below 1e-5; early stopping (when asked) waits twice as long so
# the lowered rate gets its chance first.
LR_PLATEAU_FACTOR = 0.5
LR_PLATEAU_PATIENCE = 3
LR_PLATEAU_MIN = 1e-5
EARLY_STOPPING_PATIENCE = 6
# Time estimate: one untimed step (graph tracing takes seconds), then these timed ones.
ESTIMATE_TIMED_STEPS = 3
# Mixed float16 pays off from Volta (compute capability 7.0, tensor cores) on;
# older GPUs run it slower than float32.
MIXED_PRECISION_MIN_CAPABILITY = (7, 0)
TRAIN_GRID_IMAGES = 8        # test photos shown in a training run's comparison grids

# Wizard prompts: an answer longer than this is refused, not parsed (a pasted
# paragraph or a 10000-character line is a mistake, never a path or a count).
MAX_ANSWER_CHARS = 1000

# Multi-worker training (cluster.py, distributed.py): the standard variable TensorFlow reads.
TF_CONFIG_ENV_VAR = "TF_CONFIG"
