# Python 2, in src/main/jython: the type's default script prefix/Name.py
from layoutlib.words import wave
print "waving from jython"
waved = wave()
