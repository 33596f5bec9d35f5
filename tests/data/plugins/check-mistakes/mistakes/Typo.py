print "building %s" % jobName
result = "built %s" % jobname
