"""The one reporter of the two front ends: what the CLI and the wizard print about work.

A scan's counts and its unusable files, the results of `predict`, `train` and
`evaluate`, and the progress bars they show. Computation returns results and
reports progress through callbacks, never printing; this module turns them into
lines, the same lines whichever front end ran the work.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Sequence

from colorize.frontends import console
from colorize.constants import FILM_SUFFIXES, SCAN_PROGRESS_DELAY_S

if TYPE_CHECKING:
    from colorize.dataset import ScannedFile, ScanResult
    from colorize.inference.predict import PredictResult
    from colorize.training.train import TrainResult

BAD_FILES_SHOWN = 20   # a listing nobody asked for in full stops here, with a count of the rest

SCAN_SUMMARY_PHRASES = {  # status: (singular, plural)
    "ok": ("image is fine", "images are fine"),
    "grayscale": ("is grayscale", "are grayscale"),
    "too_small": ("is too small", "are too small"),
    "not_image": ("is not an image", "are not images"),
    "unreadable": ("is unreadable", "are unreadable"),
    "film": ("is a film", "are films"),
}


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    """Return "1 photo" or "3 photos"."""
    return f"{count} {singular if count == 1 else plural_form or singular + 's'}"


# --- progress ---------------------------------------------------------------------

def scan_progress() -> console.ProgressBar:
    """Return the progress callback for a scan: a bar only when the scan runs longer than a moment."""
    return console.ProgressBar("Scanning", unit="files", show_after_s=SCAN_PROGRESS_DELAY_S)


def work_progress(label: str) -> console.ProgressBar:
    """Return the progress callback for colourising or evaluating photos.

    The bar's clock starts at the first report, not here, so loading a model or
    training before the work does not count in its rate and time left.
    """
    return console.ProgressBar(label, unit="images")


# --- scans and unusable files ---------------------------------------------------------

def scan_summary(counts: dict[str, int]) -> str:
    """Return "298 images are fine, 2 are grayscale, ..." for the non-zero counts."""
    parts = []
    for status, (singular, plural_form) in SCAN_SUMMARY_PHRASES.items():
        if counts[status] or status == "ok":
            parts.append(f"{counts[status]} {singular if counts[status] == 1 else plural_form}")
    text = ", ".join(parts) + "."
    if counts["skipped"]:
        text += f" {plural(counts['skipped'], 'hidden or system entry', 'hidden or system entries')} skipped."
    return text


def show_scan(scan: "ScanResult") -> None:
    """Print what a scan found: the files, and how many are fine for training."""
    counts = scan.counts()
    console.info(f"Scanned {scan.root} ({scan.kind}): {plural(counts['total'], 'file')}.")
    summary = scan_summary(counts)
    if not counts["ok"]:
        console.warn(summary + " No colour image is usable for training.")
    elif scan.bad:
        console.warn(summary)
    else:
        console.success(summary)


def list_bad_files(entries: Sequence["ScannedFile"], limit: int | None = BAD_FILES_SHOWN) -> None:
    """Print each unusable file with its reason (the first `limit`, then how many more)."""
    shown = entries if limit is None else entries[:limit]
    for entry in shown:
        console.plain(f"  {entry.path}: {entry.reason or entry.status}")
    if len(entries) > len(shown):
        console.plain(f"  ... and {len(entries) - len(shown)} more")


# --- results ----------------------------------------------------------------------

def show_predict_result(result: "PredictResult") -> None:
    """Print how many photos were coloured, what was skipped, and where the results and grids are."""
    films = sum(path.suffix.lower() in FILM_SUFFIXES for path in result.written)
    photos = len(result.written) - films
    what = plural(photos, "photo") if photos or not films else ""
    what += (" and " if what and films else "") + (plural(films, "film") if films else "")
    console.success(f"Colourised {what} into {result.output_dir}")
    if result.hinted:
        console.info(f"{plural(len(result.hinted), 'photo')} steered by your hints: {', '.join(result.hinted[:3])}"
                     + (f" and {len(result.hinted) - 3} more" if len(result.hinted) > 3 else ""))
    if result.skipped_existing:
        console.info(f"{len(result.skipped_existing)} already had a result there and were left as they were.")
    if result.bad:
        console.warn(f"{plural(len(result.bad), 'file')} could not be used and "
                     f"{'was' if len(result.bad) == 1 else 'were'} skipped:")
        list_bad_files(result.bad)
    if result.grids:
        console.info(f"Comparison grids: {result.grids[0].parent} ({plural(len(result.grids), 'page')})")
    if result.advice:
        console.info(f"Where hints would help most: {result.advice[0].parent} (red is where the model is least "
                     "sure; each .json suggests points with its likeliest colours: edit it and give it to --hints)")


def show_scores(metrics: dict) -> None:
    """Print the model's figures beside those of the gray baseline (nothing without a baseline)."""
    from colorize.evaluation.evaluate import format_table

    if not metrics.get("gray_baseline"):
        return
    scored = (f"the ensemble of {len(metrics['members'])} models and each model"
              if metrics.get("members") else "the model")
    steered = (f", each steered by {plural(metrics['hints'], 'simulated hint point')}"
               if metrics.get("hints") else "")
    unit = "frame" if "flicker" in metrics else "photo"   # a film is scored frame by frame
    console.info(f"On {plural(metrics.get('images', 0), unit)} {scored} scored{steered}:")
    for line in format_table(metrics):
        console.plain(f"  {line}")
    if metrics.get("flicker") is not None:   # a film (issue 28): colour change between frames of a shot
        console.plain(f"  Flicker: {metrics['flicker']:.3f} ab per frame within shots "
                      f"(the colour film's own: {metrics['flicker_truth']:.3f}), over {metrics['frames']} frames.")


def show_evaluation(result: dict) -> None:
    """Print evaluate's table and where its grids and evaluation.json went."""
    console.plain()
    show_scores(result)
    console.success(f"Grids and evaluation.json are in {result['results_dir']}")


def show_train_result(result: "TrainResult") -> None:
    """Print the test figures beside the gray baseline, where every file went, and how training ended."""
    if result.model_path is None:  # a multi-worker run's non-chief worker
        console.success("This worker's share of the training is done; the chief saved the model and the report.")
        return
    show_scores(result.metrics)
    if result.rounds:
        show_rounds(result.rounds)
    console.plain(f"  model        {result.model_path}")
    if "model_h5" in result.files:
        console.plain(f"  model (.h5)  {result.files['model_h5']}")
    console.plain(f"  run report   {result.run_dir}  (summary.txt, curves.png, history.csv, metrics.json)")
    if result.results_dir:
        console.plain(f"  test grids   {result.results_dir}")
    if result.interrupted:
        console.warn("Training was stopped by Ctrl-C; the model so far is saved above. To train it further, "
                     f"continue from it (python -m colorize train --model {result.model_path}, or in the "
                     "wizard: continue training a saved model).")
    else:
        console.success("Training finished.")


def show_rounds(rows: list[dict]) -> None:
    """Print the self-training table: the teacher and every round on the same test photos."""
    from colorize.evaluation.report import rounds_table_lines

    if not any(row["metrics"] for row in rows):
        return
    console.info("The teacher and each round's student, on the same test photos:")
    for line in rounds_table_lines(rows):
        console.plain(f"  {line}")
    console.plain("  (the last round's student is the model below; every round's is in its own run folder)")


def show_unexpected_error() -> None:
    """Log the exception being handled, with its traceback, and print one line pointing to the log."""
    from colorize.paths import write_error_log

    log_path = write_error_log(traceback.format_exc())
    console.error(f"Something unexpected went wrong; the details are in {log_path}")

