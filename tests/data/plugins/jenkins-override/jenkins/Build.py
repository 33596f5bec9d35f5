# Python 2: this plugin's own jenkins/Build.py, which contacts no server
print "overridden build of %s (dry run: %s)" % (jobName, dryRun)
buildNumber = "0"
buildStatus = "OVERRIDDEN"
