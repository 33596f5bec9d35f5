# print statements, except E, e, exec, backticks, <>, octal and long literals (Python 3)
import sys
print("hello", "world")
print("no newline", end=" ")
print("after")
print("to stdout", file=sys.stdout)
print()
try:
    {}["missing"]
except KeyError as e:
    print("caught", repr(e))
exec("x = 6 * 7")
print(repr(x), x != 41, 0o755, 10 + 1)
result = [x, 0o755, 10]
