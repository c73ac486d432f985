"""Worked examples of adding mirage metrics to existing lm-eval tasks; see README.md here."""
