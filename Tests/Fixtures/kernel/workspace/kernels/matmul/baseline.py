"""A plain-Python matmul: the starting point the agent is asked to improve."""


def matmul(a, b):
    return [[sum(x * y for x, y in zip(row, column)) for column in zip(*b)] for row in a]
