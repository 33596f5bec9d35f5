# A script gone wrong in the way `behaviour` names. None of these may stop `xlr serve`, disturb another task or
# put `secret` (a password property) anywhere the runtime keeps text.
import os
import subprocess
import sys
import threading
import time

result = None

if behaviour == "print-surrogate":
    print("a lone surrogate: \udcff")
    result = "printed"
elif behaviour == "status-surrogate":
    task.setStatusLine("status with \udcff inside")
elif behaviour == "raise-surrogate":
    raise ValueError("undecodable \udcff in a message")
elif behaviour == "exit-surrogate":
    sys.exit("exit message with \udcff")
elif behaviour == "output-surrogate":
    result = "value with \udcff"
elif behaviour == "schedule-huge":
    task.schedule("runaway/Misbehave.py", 1e10)
elif behaviour == "schedule-inf":
    task.schedule("runaway/Misbehave.py", float("inf"))
elif behaviour == "schedule-nan":
    task.schedule("runaway/Misbehave.py", float("nan"))
elif behaviour == "late-thread":

    def chatter():
        time.sleep(0.5)  # the run is over by then: everything below is printed by an orphaned thread
        for n in range(500):
            print("late line %d of a finished run: %s" % (n, secret))
            time.sleep(0.02)

    threading.Thread(target=chatter, daemon=True).start()
    result = "thread started"
elif behaviour == "fd-write":
    os.write(1, ("fd 1 carries %s\n" % secret).encode())
    os.write(2, ("fd 2 carries %s\n" % secret).encode())
    result = "written below sys.stdout"
elif behaviour == "subprocess-echo":
    subprocess.run(["echo", "a child echoes", secret], check=True)
    subprocess.run(["sh", "-c", 'echo "to stderr: $0" >&2', secret], check=True)
    result = "echoed"
elif behaviour == "fork":
    if os.fork() == 0:
        time.sleep(0.2)
        result = "child"  # the child does not exit: it runs on past the script, into the worker's own code
    else:
        result = "parent"
elif behaviour == "exit-after-print":
    print("last words before os._exit")
    os._exit(3)
elif behaviour == "fd-write-crash":
    os.write(2, ("dying with %s\n" % secret).encode())
    os._exit(4)
elif behaviour == "big-memory":
    blob = b"m" * (200 * 1024 * 1024)
    result = "allocated %d MB" % (len(blob) // (1024 * 1024))
elif behaviour == "hoard-memory":
    import builtins

    builtins.runaway_hoard = b"h" * (200 * 1024 * 1024)  # outlives the run: the worker stays big
    result = "hoarded"
elif behaviour == "endless-loop":
    while True:
        pass
elif behaviour == "huge-status":
    task.setStatusLine("s" * (10 * 1024 * 1024))
    result = "10 MB status line"
elif behaviour == "huge-log":
    line = "l" * 999
    for n in range(20000):  # 20 MB
        print(line)
    result = "printed 20 MB"
else:
    raise ValueError("unknown behaviour %r" % behaviour)
