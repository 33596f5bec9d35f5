task.schedule("demo/Missing.py", 2)
