# dict methods and list-returning builtins (Python 2)
d = {"b": 2, "a": 1}
pairs = sorted([(k, v) for k, v in d.iteritems()])
values = sorted(d.itervalues())
keys = sorted(d.iterkeys())
print d.has_key("a"), d.has_key("z")
first_key = sorted(d.keys())[0]
last = filter(None, "/queue/item/42/".split("/"))[-1]
doubled = map(lambda n: n * 2, [1, 2, 3])[1]
zipped = zip("ab", [1, 2])[0]
count = len(filter(lambda n: n > 1, [1, 2, 3]))
total = reduce(lambda a, b: a + b, xrange(5))
print cmp(1, 2), apply(max, (3, 9))
result = [pairs, values, keys, first_key, last, doubled, zipped, count, total]
print result
