# Python 2, in src/main/jython
print "finishing in jython"
greeting = greeting + "!"
