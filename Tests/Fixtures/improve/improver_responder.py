"""Answers the reflective improver's query for the tests, like a model that gets the syntax
wrong once: while the prompt shows no checker diagnostics, it proposes the program with
`on_fail retry ask max 4` and a broken line (`let = 1`); once it is shown its diagnostics, it
proposes the same program without the broken line. With `--always-broken` it never fixes it;
with `--change-metric` it proposes, at once, a program whose metric always says solved."""

from __future__ import annotations

import json
import re
import sys


def main() -> int:
    request = json.load(sys.stdin)
    prompt = request["request"]["prompt"]
    program = re.search(r"```spak\n(.*?)\n```", prompt, re.DOTALL).group(1)
    proposed = program.replace("max 1", "max 4")
    if "--change-metric" in sys.argv:
        proposed = proposed.replace("metric solved = len(found) == count", "metric solved = true")
    elif "did not pass the checker" not in prompt or "--always-broken" in sys.argv:
        proposed = proposed.replace("    on_fail retry", "    let = 1\n    on_fail retry", 1)
    print(f"Raising the retry bound lets the model converge.\n\n```spak\n{proposed}\n```")
    return 0


if __name__ == "__main__":
    sys.exit(main())
