# expect: lazy-tensor
"""Defines __array_function__ to intercept what is asked of its results later."""


class Later:
    def __array_function__(self, func, types, args, kwargs):
        return func(*args, **kwargs)


def matmul(a, b, out):
    out[...] = (a[:, :, None] * b[None, :, :]).sum(axis=1)
