# A helper module that does not compile, as Python 3 nor as Python 2.

TEXT = "unterminated
