# Python 2: a helper module that lives in src/main/jython only
def wave():
    print "waving from a helper module"
    return "yes"
