"""A stand-in for a model that needs to be told what was wrong: the responder of the
`spak improve` demonstration (examples/improve/README.md).

It answers `List every prime number below N …` with the primes below 20 only. When the prompt
shows why its last answer was rejected (the kernel's violation message, which holds the list
it gave), it adds the next missing prime. Like a model at temperature 0, it gives the same
answer to the same prompt: a retry whose prompt does not show the violation gets the same
wrong list again. spak gives the request as JSON on standard input; the answer goes to
standard output."""

from __future__ import annotations

import json
import re
import sys

FIRST_ANSWER_BELOW = 20


def primes_below(limit: int) -> list[int]:
    return [n for n in range(2, limit) if all(n % d for d in range(2, int(n**0.5) + 1))]


def answer(prompt: str) -> list[int]:
    match = re.search(r"below (\d+)", prompt)
    if match is None:
        raise ValueError("the prompt asks for no bound (`below N`)")
    truth = primes_below(int(match.group(1)))
    given = [p for p in truth if p < FIRST_ANSWER_BELOW]
    rejected = re.search(r"rejected:.*?found = (\[[\d, ]*\])", prompt, re.DOTALL)
    if rejected:
        given = json.loads(rejected.group(1))
        missing = [p for p in truth if p not in given]
        given = sorted(given + missing[:1])
    return given


def main() -> int:
    request = json.load(sys.stdin)
    if request.get("effect") != "llm.query":
        print(f"model.py answers llm.query only, not {request.get('effect')}", file=sys.stderr)
        return 2
    try:
        print(json.dumps(answer(request["request"]["prompt"])))
    except ValueError as problem:
        print(f"model.py: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
