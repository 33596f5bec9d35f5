# dict methods and list-returning builtins (Python 3)
from functools import reduce
d = {"b": 2, "a": 1}
pairs = sorted([(k, v) for k, v in d.items()])
values = sorted(d.values())
keys = sorted(d.keys())
print("a" in d, "z" in d)
first_key = sorted(d.keys())[0]
last = [part for part in "/queue/item/42/".split("/") if part][-1]
doubled = [n * 2 for n in [1, 2, 3]][1]
zipped = list(zip("ab", [1, 2]))[0]
count = len([n for n in [1, 2, 3] if n > 1])
total = reduce(lambda a, b: a + b, range(5))
print((1 > 2) - (1 < 2), max(3, 9))
result = [pairs, values, keys, first_key, last, doubled, zipped, count, total]
print(result)
