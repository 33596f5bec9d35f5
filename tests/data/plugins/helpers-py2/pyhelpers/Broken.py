import brokenhelper

print brokenhelper.TEXT
