import time

time.sleep(seconds)
slept = True
