# Sets a status line and outputs of `size` bytes.
task.setStatusLine("s" * size)
result = "r" * size
items = ["i" * 999] * (size // 1000)
