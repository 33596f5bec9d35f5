# Python 2, in src/main/resources: greet, then run the second script, which lives in src/main/jython
print "hello from resources"
greeting = "hello %s" % who
task.schedule("layout/Hello.finish.py", 1)
