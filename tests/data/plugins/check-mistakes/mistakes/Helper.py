from mistakes_lib import texts

print texts.banner("x")
