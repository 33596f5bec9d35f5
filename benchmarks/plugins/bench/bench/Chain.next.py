n = n + 1
if n < steps:
    task.schedule("bench/Chain.next.py", 0)
