# print statements, except E, e, exec, backticks, <>, octal and long literals (Python 2)
import sys
print "hello", "world"
print "no newline",
print "after"
print >>sys.stdout, "to stdout"
print
try:
    {}["missing"]
except KeyError, e:
    print "caught", repr(e)
exec "x = 6 * 7"
print `x`, x <> 41, 0755, 10L + 1
result = [x, 0755, 10L]
