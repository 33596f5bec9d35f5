# mixed tabs and spaces, keyword attributes, no final newline (Python 3)
class Filters(object):
    pass

def describe(values):
    total = 0
    for value in values:
        if value:
            total += value
        else:
            total -= 1
    return total

filters = Filters()
setattr(filters, "from_", "2024-01-01")
filters.to = "2024-12-31"
print(describe([1, 0, 5]), filters.from_)
result = [describe([1, 0, 5]), filters.from_, filters.to]
