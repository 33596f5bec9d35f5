import os

value = os.environ.get(name, "(unset)")
