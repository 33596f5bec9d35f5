# Python 2, in src/main/jython: the type's default script prefix/Name.py
print "waving from jython"
waved = "yes"
