# Python 2: the map default is read back as a dict, whichever separator synthetic.xml used.
keys = fields.keys()
keys.sort()
picked = "%s|%s|%s|%s%s" % (fields["short_description"], ",".join(keys), fields["url"], mixed["a"], mixed["b"])
print picked
