"""BIG-bench JSON tasks as lm-eval configs (``mirage_bb_*``); see README.md here."""
