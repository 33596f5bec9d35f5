"""fissix fixers of our own, for Python 2 behaviour that the stock fixers leave unchanged."""
