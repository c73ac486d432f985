"""pytest: each module folder's ``app.py`` is a Hub Space entry point (same name in every folder), not a test."""

collect_ignore_glob = ["*/app.py"]
