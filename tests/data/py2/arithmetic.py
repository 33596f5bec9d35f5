# Python 2 numbers: integer division floors, round() gives a float and rounds halves away from zero,
# sorting takes a cmp function (Python 2)
import time

startMillis = 1700000000000L
endMillis = startMillis + 150000
total_items, per_page = 101, 25
pages = (total_items + per_page - 1) / per_page
elapsed_minutes = (endMillis - startMillis) / 60000
offset = -7 / 2
remaining = 10
remaining /= 4
counts = {"builds": 9}
counts["builds"] /= 2
average = float(3 + 4) / 2
stage_seconds = float(2500) / 1000
mixed = 7 / 2.0 + True / 2
total_duration = int(round((endMillis - startMillis) / 1000.0 / 60.0))
rounded = [round(2.5), round(-0.5), round(2.675, 2), round(1234.5, -1), round(7)]
print "%d pages, %d minutes, offset %d, %s left" % (pages, elapsed_minutes, offset, remaining)
print "completed in %d minutes" % total_duration, rounded


def by_number_descending(left, right):
    return cmp(right["number"], left["number"])


builds = [{"number": 3}, {"number": 11}, {"number": 7}]
newest_first = [b["number"] for b in sorted(builds, by_number_descending)]
names = ["b", "C", "a"]
names.sort(lambda x, y: cmp(x.lower(), y.lower()))
tags = ["v10", "v9", "v1"]
tags.sort(cmp=lambda x, y: cmp(int(x[1:]), int(y[1:])), reverse=True)
result = [pages, elapsed_minutes, offset, remaining, counts, average, stage_seconds, mixed, total_duration,
          rounded, newest_first, names, tags, time.strftime("%Y", time.gmtime(0))]
print result
