"""``mirage report``: read results, analyse across sizes, write CSVs, plots and one self-contained HTML page."""
