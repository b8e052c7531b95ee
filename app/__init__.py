"""ViSketch desktop app (PySide6): draw, and watch the classifier think, live.

Qt lives here and only here; the model is reached through ``visketch_core.inference``.
Entry point: ``app.main.main(argv)`` (``visketch app``, ``python -m app``).
"""
