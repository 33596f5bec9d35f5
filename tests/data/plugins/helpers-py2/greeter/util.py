import string


def shout(text):
    return string.upper(text) + "!"
