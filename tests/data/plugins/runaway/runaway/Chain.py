# First script of runaway.Chain: remember who runs us, then tick `polls` times, one second apart.
import os

ticks = 0
servedBy = os.getppid()
print("start %s" % label)
task.setStatusLine("%s 0/%d" % (label, polls))
task.schedule("runaway/Chain.tick.py", 1)
