# Python 2, as plugins for XL Release are written: nothing here checks for None before using a collection.
for key in options.keys():
    print "option %s" % key
for name in names:
    print "name %s" % name
if tags:
    print "tags given"
if dryRun:
    print "dry run"
if text is None and count is None:
    print "no text, no count"
report = "text=%s count=%s dryRun=%s mode=%s since=%s server=%s names=%s tags=%s options=%s servers=%s pool=%s" % (
    text, count, dryRun, mode, since, server, names, tags, options, len(servers), len(pool))
if server is not None:
    serverReport = "headers=%d scopes=%d insecure=%s timeout=%s" % (
        len(server["headers"].keys()), len(server["scopes"]), server["insecure"], server["timeout"])
print report
