# One tick of runaway.Chain; the last one writes the summary instead of scheduling another.
ticks = ticks + 1
print("tick %d/%d %s" % (ticks, polls, label))
task.setStatusLine("%s %d/%d" % (label, ticks, polls))
if ticks < polls:
    task.schedule("runaway/Chain.tick.py", 1)
else:
    summary = "%s done after %d ticks" % (label, ticks)
