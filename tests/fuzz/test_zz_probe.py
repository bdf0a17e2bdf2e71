import signal
import time

from . import test_documents as td

orig = td.run_inprocess


class Slow(Exception):
    pass


def timed(*args):
    def h(*a):
        raise Slow(repr(args)[:200])
    signal.signal(signal.SIGALRM, h)
    signal.alarm(6)
    t = time.time()
    try:
        return orig(*args)
    finally:
        signal.alarm(0)
        d = time.time() - t
        if d > 2:
            print("SLOW", d, args[:3], open(args[-1] if args[-1].endswith(".json") and "payload" not in args[-1] else args[-2]).read()[:3000])


td.run_inprocess = timed
test_hostile_documents = td.test_hostile_documents
world = td.world
