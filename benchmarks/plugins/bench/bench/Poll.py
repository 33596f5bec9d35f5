n = 0
task.schedule("bench/Poll.next.py", float(offset))
