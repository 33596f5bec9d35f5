import loose.thing

print loose.thing.VALUE
