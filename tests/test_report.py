"""report.py's comparison grids: the page is sized to its photos (issue 14: rows used
to be square cells, so landscape photos left white bands between the rows)."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from colorize.errors import OutputError
from colorize.evaluation.report import GRID_DPI, save_comparison_grids
from conftest import colorful_image


def blank_rows(page: np.ndarray) -> int:
    """Return how many pixel rows of the page are white (or nearly) from edge to edge."""
    return int(np.sum(page.min(axis=(1, 2)) >= 245))


def test_a_grid_page_is_as_tall_as_its_photos(tmp_path):
    landscape = colorful_image(320, 240, seed=1)      # 4:3, as most photos are
    portrait = colorful_image(240, 320, seed=2)
    rows = [[landscape] * 3, [landscape] * 3, [landscape] * 3, [portrait] * 3]
    pages = save_comparison_grids(rows, ["original", "colourised", "gray"], tmp_path, row_labels=list("abcd"))
    assert [page.name for page in pages] == ["grid-01.png"]
    with Image.open(pages[0]) as opened:
        page = np.asarray(opened.convert("RGB"))
    height, width = page.shape[:2]
    photos_height = 3 * 240 + 320 * 320 / 240             # each row as tall as its photos at 320 px wide
    assert width <= 3 * 320 + 0.6 * GRID_DPI                 # labels and gaps: well under an inch
    assert photos_height <= height <= photos_height + 0.7 * GRID_DPI   # titles, gaps, margins
    # Only the title band and thin gaps are white across the page: no bands between rows.
    assert blank_rows(page) <= 0.45 * GRID_DPI


def test_grid_pages_are_never_overwritten_and_leave_no_partial_file(tmp_path):
    rows = [[colorful_image(64, 48, seed=index)] * 2 for index in range(6)]
    first = save_comparison_grids(rows, ["a", "b"], tmp_path, rows_per_page=4)
    assert [page.name for page in first] == ["grid-01.png", "grid-02.png"]
    before = {page: page.read_bytes() for page in first}
    with pytest.raises(OutputError, match="Refusing to overwrite"):
        save_comparison_grids(rows, ["a", "b"], tmp_path, rows_per_page=4)
    assert {page: page.read_bytes() for page in first} == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["grid-01.png", "grid-02.png"]
