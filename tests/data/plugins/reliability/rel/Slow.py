# Appends a line to `trace` when it starts (a side effect that must not repeat), then sleeps.
import time

with open(trace, "a") as handle:
    handle.write("%s started\n" % task.id)
time.sleep(seconds)
