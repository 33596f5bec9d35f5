release = getCurrentRelease()
print release.title
