import time

n = 0
# With a phase (xlr-poll), the polls are staggered over the second: the next one falls due `phase` seconds past a
# whole second, one to two seconds from now (as huey-poll schedules its first polls), whenever this start-up run
# ran. Without one (xlr-burst), `offset` seconds after this run.
if phase:
    task.schedule("bench/Poll.next.py", 1.0 + (float(phase) - time.time()) % 1.0)
else:
    task.schedule("bench/Poll.next.py", float(offset))
