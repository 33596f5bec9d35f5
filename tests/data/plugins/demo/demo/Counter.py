# First script of demo.Counter: start counting, then poll demo/Counter.next.py `polls` times.
if trace:
    with open(trace, "a") as handle:
        handle.write("%s 0\n" % task.id)
count = 0
task.setStatusLine("0/%d" % polls)
if polls > 0:
    if interval:
        task.schedule("demo/Counter.next.py", float(interval))
    else:
        task.schedule("demo/Counter.next.py")
else:
    done = "yes"
