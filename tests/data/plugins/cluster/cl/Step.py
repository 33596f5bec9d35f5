# One step of a chain: "start|end TASK STEP HOST TIME" lines in `trace` (HOST: $XLR_TEST_HOST of the serving
# process), the step's work (a sleep) between them, then the next step one second later until `steps` is reached.
import os
import time

step = (step or 0) + 1
host = os.environ.get("XLR_TEST_HOST", "?")


def note(what):
    with open(trace, "a") as handle:
        handle.write("%s %s %d %s %.6f\n" % (what, task.id, step, host, time.time()))


note("start")
time.sleep(float(first_seconds if step == 1 else seconds))
note("end")
if step < steps:
    task.schedule("cl/Step.py", 1)
