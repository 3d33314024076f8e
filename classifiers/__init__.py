"""German text classifiers: pure functions of text (and author signals), no storage, no web."""
