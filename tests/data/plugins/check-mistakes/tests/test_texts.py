# The plugin's own tests, run by its authors with a Jython test runner: not plugin code.
from mistakes_lib.texts import banner

def test_banner():
    assert banner("x") == "X" and undefined_in_tests
