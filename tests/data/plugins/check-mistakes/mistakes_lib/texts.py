def banner(text):
    print "*** %s ***" % text
    return "%s!" % text.upper()'
