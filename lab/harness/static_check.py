"""Reads a candidate's source before anything of it runs, and names the cheats it can see:
library calls for the op, fallbacks, caches, lazy tensor types, other streams and threads,
patched timers or libraries, lower precision, and code built at run time. (The runtime guards
catch what hides from this.)"""

from __future__ import annotations

import ast
from dataclasses import dataclass

# Library calls that compute a matrix product or attention: the reference, or a stand-in for
# it. A name matches itself and everything under it (`numpy.linalg` covers `numpy.linalg.eig`).
REFERENCE_CALLS = (
    "numpy.matmul", "numpy.dot", "numpy.vdot", "numpy.inner", "numpy.einsum", "numpy.tensordot", "numpy.linalg",
    "numpy.matrix", "numpy.kron", "numpy.convolve", "numpy.correlate",
    "torch.matmul", "torch.mm", "torch.bmm", "torch.mv", "torch.addmm", "torch.addbmm", "torch.baddbmm", "torch.addmv",
    "torch.einsum", "torch.tensordot", "torch.chain_matmul", "torch.linalg", "torch.inner",
    "torch.nn.functional.linear", "torch.nn.functional.bilinear", "torch.nn.functional.scaled_dot_product_attention",
    "torch.nn.functional.multi_head_attention_forward", "torch.nn.MultiheadAttention", "torch.nn.Linear",
    "torch.nn.attention", "torch.ops", "torch._C", "torch.sparse", "torch.Tensor.matmul", "torch.Tensor.mm",
    "torch.Tensor.bmm", "torch.Tensor.__matmul__",
    "scipy", "cupy", "jax", "tensorflow", "numba", "sklearn",
)
# Methods of arrays and tensors that compute a product (on an object that is not a module).
REFERENCE_METHODS = {"dot", "matmul", "mm", "bmm", "addmm", "baddbmm", "einsum", "tensordot", "__matmul__",
                     "__rmatmul__", "__imatmul__", "inner", "mv"}
THREADS = ("threading", "_thread", "multiprocessing", "concurrent", "asyncio", "torch.multiprocessing",
           "torch.cuda.Stream", "torch.cuda.stream", "torch.cuda.set_stream", "torch.cuda.ExternalStream",
           "torch.cuda.StreamContext", "torch.Stream")
DYNAMIC = ("importlib", "ctypes", "cffi", "subprocess", "os.system", "os.popen", "os.fork", "os.exec", "os.spawn",
           "pickle", "marshal", "runpy", "code", "builtins", "sys.modules")
DYNAMIC_BUILTINS = {"eval", "exec", "compile", "__import__", "globals", "vars", "breakpoint"}
PRECISION_NAMES = {"allow_tf32", "set_float32_matmul_precision", "allow_fp16_reduced_precision_reduction",
                   "allow_bf16_reduced_precision_reduction"}
# Spellings of TF32 in an fp32 kernel (fp16 or bf16 arithmetic shows in the error instead: a
# kernel may well name those types to serve every dtype).
TF32 = {"tf32", "tf32x3"}
CACHE_DECORATORS = {"lru_cache", "cache", "cached_property", "memoize"}
LAZY_HOOKS = {"__array__", "__array_ufunc__", "__array_function__", "__torch_function__", "__torch_dispatch__",
              "__array_interface__", "__cuda_array_interface__"}
LAZY_BASES = ("numpy.ndarray", "torch.Tensor", "numpy.lib.mixins")


@dataclass(frozen=True)
class Finding:
    """A cheat seen in the source: its kind (the JSON's `cheat`), line and reason."""

    cheat: str
    line: int
    reason: str


def _within(name: str, prefixes) -> bool:
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


class _Scanner(ast.NodeVisitor):
    def __init__(self, dtype: str):
        self.dtype = dtype
        self.aliases: dict[str, str] = {}  # local name -> module path it stands for
        self.findings: list[Finding] = []

    def flag(self, cheat: str, node: ast.AST, reason: str) -> None:
        self.findings.append(Finding(cheat, getattr(node, "lineno", 0), reason))

    def dotted(self, node: ast.AST) -> str | None:
        """The dotted path a name or attribute chain stands for, through import aliases."""
        if isinstance(node, ast.Name):
            return self.aliases.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.dotted(node.value)
            return f"{base}.{node.attr}" if base else None
        return None

    def imported(self, path: str, node: ast.AST) -> None:
        if _within(path, REFERENCE_CALLS):
            self.flag("reference-library", node, f"imports `{path}`, a library implementation of the op")
        elif _within(path, THREADS):
            self.flag("stream-or-thread", node, f"imports `{path}`: work must run on the caller's stream and thread")
        elif _within(path, DYNAMIC):
            self.flag("dynamic-code", node, f"imports `{path}`, which can run code the check cannot see")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self.imported(alias.name, node)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                top = alias.name.split(".")[0]
                self.aliases[top] = top

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for alias in node.names:
            path = f"{module}.{alias.name}" if module else alias.name
            if alias.name == "*":
                self.flag("dynamic-code", node, f"`from {module} import *` hides what the kernel calls")
                continue
            self.imported(path, node)
            self.aliases[alias.asname or alias.name] = path

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in DYNAMIC_BUILTINS:
            self.flag("dynamic-code", node, f"uses `{node.id}`, which runs code the check cannot see")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        path = self.dotted(node)
        if path and _within(path, REFERENCE_CALLS):
            self.flag("reference-library", node, f"uses `{path}`, a library implementation of the op")
        elif path and _within(path, THREADS):
            self.flag("stream-or-thread", node, f"uses `{path}`: work must run on the caller's stream and thread")
        elif path and _within(path, DYNAMIC):
            self.flag("dynamic-code", node, f"uses `{path}`, which can run code the check cannot see")
        elif node.attr in REFERENCE_METHODS and path is None:
            self.flag("reference-library", node, f"calls the array method `.{node.attr}`, a library product")
        if node.attr in PRECISION_NAMES:
            self.flag("low-precision", node, f"touches `{node.attr}`: the claimed precision must be the one computed")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            text = node.value.lower()
            if "cublas" in text or "cudnn" in text:
                self.flag("reference-library", node, "names cuBLAS or cuDNN")
            if self.dtype == "fp32" and text in TF32:
                self.flag("low-precision", node, f"asks for `{node.value}` in an fp32 kernel")

    def visit_BinOp(self, node: ast.BinOp) -> None:
        if isinstance(node.op, ast.MatMult):
            self.flag("reference-library", node, "uses the `@` operator, a library product")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.op, ast.MatMult):
            self.flag("reference-library", node, "uses the `@=` operator, a library product")
        self.check_targets([node.target], node)
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.check_targets(node.targets, node)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        self.check_targets(node.targets, node)
        self.generic_visit(node)

    def check_targets(self, targets, node: ast.AST) -> None:
        for target in targets:
            if isinstance(target, ast.Attribute):
                base = self.dotted(target.value)
                if base is not None and target.attr not in PRECISION_NAMES:
                    self.flag("monkey-patch", node, f"assigns to `{base}.{target.attr}`: libraries and timers must stay as they are")
            if isinstance(target, ast.Subscript) and self.dotted(target.value) == "sys.modules":
                self.flag("monkey-patch", node, "replaces a module in `sys.modules`")

    def visit_Call(self, node: ast.Call) -> None:
        for keyword in node.keywords:
            if self.dtype == "fp32" and keyword.arg == "allow_tf32" and not (
                    isinstance(keyword.value, ast.Constant) and keyword.value.value is False):
                self.flag("low-precision", keyword.value, "allows TF32 in an fp32 kernel")
        if isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr", "getattr") and node.args:
            target = self.dotted(node.args[0])
            literal = len(node.args) > 1 and isinstance(node.args[1], ast.Constant)
            if node.func.id != "getattr" and target is not None:
                self.flag("monkey-patch", node, f"calls `{node.func.id}` on the module `{target}`")
            elif node.func.id == "getattr" and target is not None and not literal:
                self.flag("dynamic-code", node, f"looks up a computed name in the module `{target}`")
        self.generic_visit(node)

    def visit_Try(self, node: ast.Try) -> None:
        for handler in node.handlers:
            if not all(isinstance(statement, ast.Raise) for statement in handler.body):
                self.flag("fallback", handler, "catches an exception and goes on: a failing kernel must fail, not fall back")
        self.generic_visit(node)

    visit_TryStar = visit_Try

    def visit_Global(self, node: ast.Global) -> None:
        self.flag("caching", node, f"writes module state (`global {', '.join(node.names)}`) between calls")

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        self.flag("caching", node, f"keeps state between calls (`nonlocal {', '.join(node.names)}`)")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        for decorator in node.decorator_list:
            target = decorator.func if isinstance(decorator, ast.Call) else decorator
            name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
            if name in CACHE_DECORATORS:
                self.flag("caching", decorator, f"caches results with `@{name}`")
        for default in node.args.defaults + node.args.kw_defaults:
            if isinstance(default, (ast.Dict, ast.List, ast.Set, ast.Call)):
                self.flag("caching", default, f"`{node.name}` has a mutable default argument, a cache between calls")
        if node.name in LAZY_HOOKS:
            self.flag("lazy-tensor", node, f"defines `{node.name}`: results must be computed, not deferred")
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            path = self.dotted(base)
            if path and _within(path, LAZY_BASES):
                self.flag("lazy-tensor", node, f"subclasses `{path}`: results must be computed, not deferred")
        self.generic_visit(node)


def scan(source: str, dtype: str) -> list[Finding]:
    """The cheats visible in a candidate's source, in line order (a syntax error is one too)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        return [Finding("syntax", error.lineno or 0, f"is not valid Python: {error.msg}")]
    scanner = _Scanner(dtype)
    scanner.visit(tree)
    unique = {(f.cheat, f.line, f.reason): f for f in scanner.findings}
    return sorted(unique.values(), key=lambda f: (f.line, f.cheat))
