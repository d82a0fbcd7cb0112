"""Answers a kernel agent's proposals from prepared kernels (the seed's "mock script"), so the
whole loop runs offline: `spak run examples/kernels/matmul.spak --live --responder "python3
lab/responder.py --set cpu"`.

spak gives each request as JSON on standard input. For an `llm.query` built from
`prompts/OP.mustache`, the answer is the prepared kernel after the one the prompt shows as the
current kernel (the first, when it shows none of them; the last stays the last), in one
```python block. `--set cpu` answers from kernels/OP/cpu/*.py (NumPy, in name order), `--set
gpu` from kernels/OP/baseline.py then improved.py (Triton)."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

OPS = ("matmul", "bmm", "fmha")
KERNELS = Path(__file__).resolve().parent / "kernels"


def prepared(op: str, kernel_set: str, folder: Path) -> list[str]:
    if kernel_set == "cpu":
        files = sorted((folder / op / "cpu").glob("*.py"))
    else:
        files = [folder / op / "baseline.py", folder / op / "improved.py"]
    return [file.read_text() for file in files]


def answer(request: dict, kernel_set: str, folder: Path) -> str:
    if request.get("effect") != "llm.query":
        raise ValueError(f"this responder answers llm.query only, not {request.get('effect')}")
    fields = request.get("request", {})
    template = Path(fields.get("template", "")).stem
    prompt = fields.get("prompt", "")
    op = template if template in OPS else next((name for name in OPS if name in prompt), None)
    if op is None:
        raise ValueError("the request names no op (matmul, bmm or fmha)")
    kernels = prepared(op, kernel_set, folder)
    shown = re.search(r"```python\n(.*?)```", prompt, re.DOTALL)
    current = shown.group(1).strip() if shown else ""
    position = next((index for index, code in enumerate(kernels) if code.strip() == current), -1)
    chosen = kernels[min(position + 1, len(kernels) - 1)]
    return f"Here is the next {op} kernel.\n\n```python\n{chosen.rstrip()}\n```\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", dest="kernel_set", choices=["cpu", "gpu"], required=True)
    parser.add_argument("--kernels", type=Path, default=KERNELS, help="the folder of prepared kernels")
    args = parser.parse_args()
    try:
        print(answer(json.load(sys.stdin), args.kernel_set, args.kernels), end="")
    except (ValueError, OSError, json.JSONDecodeError) as error:
        print(f"responder: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
