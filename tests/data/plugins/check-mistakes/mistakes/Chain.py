print "queued"
task.schedule("mistakes/Chain.wait.py", 1)
