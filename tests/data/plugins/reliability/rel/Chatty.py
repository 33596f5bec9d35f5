# One poll: print `size` bytes, count, and schedule itself again until `polls` is reached.
count = (count or 0) + 1
if trace:
    with open(trace, "a") as handle:
        handle.write("%s %d\n" % (task.id, count))
line = "x" * 99
for _ in range(size // 100):
    print(line)
task.setStatusLine("%d/%d" % (count, polls))
if count < polls:
    task.schedule("rel/Chatty.py", 1)
