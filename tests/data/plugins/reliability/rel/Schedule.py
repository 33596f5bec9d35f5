# Asks for the next script with the interval named by `interval`.
INTERVALS = {
    "1e10": 1e10,
    "inf": float("inf"),
    "nan": float("nan"),
    "negative": -5,
    "text": "soon",
    "list": [5],
    "huge int": 10**400,
    "31 days": 31 * 24 * 3600,
    "30 days": 30 * 24 * 3600,
}
print("asking for %r" % (INTERVALS[interval],))
task.schedule("rel/Done.py", INTERVALS[interval])
