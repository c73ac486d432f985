"""lm-eval task configs for the paper's arithmetic experiment (``mirage_arith_*``); see README.md here."""
