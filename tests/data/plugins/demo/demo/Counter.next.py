# One poll of demo.Counter: count, and schedule itself again until `polls` is reached.
count = count + 1
if trace:
    with open(trace, "a") as handle:
        handle.write("%s %d\n" % (task.id, count))
print("poll %d of %d" % (count, polls))
task.setStatusLine("%d/%d" % (count, polls))
if count < polls:
    if interval:
        task.schedule("demo/Counter.next.py", float(interval))
    else:
        task.schedule("demo/Counter.next.py")
else:
    done = "yes"
