def banner(text):
    return "*** %s ***" % text
