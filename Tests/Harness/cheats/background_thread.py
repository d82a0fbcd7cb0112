# expect: stream-or-thread
"""Does the work on a background thread."""
import threading


def matmul(a, b, out):
    def work():
        out[...] = (a[:, :, None] * b[None, :, :]).sum(axis=1)
    threading.Thread(target=work).start()
