n = n + 1
if n < polls:
    task.schedule("bench/Poll.next.py", 1)
