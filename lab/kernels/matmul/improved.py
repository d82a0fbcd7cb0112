# Improved Triton matmul: out = a @ b.
# Entry point: matmul(a, b, out) with a (M, K), b (K, N), out (M, N), one dtype (bf16/fp16/fp32).
# Design: @triton.autotune keyed on (M, N, K) (the autotuner adds the dtypes to the key) over two
# config sets: large tensor-core tiles with deep software pipelining for bf16/fp16, and smaller
# tiles for fp32, whose tl.dot runs in IEEE precision (no TF32). Output tiles are visited in
# GROUP_M-row groups (L2 swizzle) so programs running together share A rows and B columns in L2.
# Row/column indices past M/N are wrapped with % so A and B loads need only the K-edge mask; the
# fp32 accumulator is cast to out's dtype and stored under an M/N mask.
import torch
import triton
import triton.language as tl


def _cfg(bm, bn, bk, group, warps, stages):
    return triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk, "GROUP_M": group},
                         num_warps=warps, num_stages=stages)


_CONFIGS_16BIT = [
    _cfg(128, 256, 64, 8, 8, 3),
    _cfg(256, 128, 64, 8, 8, 3),
    _cfg(128, 128, 64, 8, 8, 4),
    _cfg(128, 128, 32, 8, 4, 4),
    _cfg(64, 256, 32, 8, 4, 4),
    _cfg(128, 64, 32, 8, 4, 4),
    _cfg(64, 128, 32, 8, 4, 4),
    _cfg(64, 64, 64, 8, 4, 4),
    _cfg(32, 64, 32, 8, 2, 5),
]

_CONFIGS_FP32 = [
    _cfg(128, 128, 32, 8, 8, 3),
    _cfg(128, 128, 16, 8, 8, 4),
    _cfg(128, 64, 32, 8, 4, 3),
    _cfg(64, 128, 32, 8, 4, 3),
    _cfg(64, 64, 32, 8, 4, 3),
    _cfg(32, 64, 32, 8, 2, 3),
]


@triton.jit
def _matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                   stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                   BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                   GROUP_M: tl.constexpr, IEEE: tl.constexpr):
    # Grouped ordering: GROUP_M consecutive tile rows are walked column by column.
    pid = tl.program_id(0)
    num_pid_m = tl.cdiv(M, BLOCK_M)
    num_pid_n = tl.cdiv(N, BLOCK_N)
    num_pid_in_group = GROUP_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_M
    group_size_m = tl.minimum(num_pid_m - first_pid_m, GROUP_M)
    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
    pid_n = (pid % num_pid_in_group) // group_size_m

    rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    rk = tl.arange(0, BLOCK_K)
    # Wrapped indices stay in bounds; the rows/columns they produce are never stored.
    a_ptrs = a_ptr + (rm % M)[:, None] * stride_am + rk[None, :] * stride_ak
    b_ptrs = b_ptr + rk[:, None] * stride_bk + (rn % N)[None, :] * stride_bn

    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        k_left = K - k * BLOCK_K
        a = tl.load(a_ptrs, mask=rk[None, :] < k_left, other=0.0)
        b = tl.load(b_ptrs, mask=rk[:, None] < k_left, other=0.0)
        if IEEE:
            acc = tl.dot(a, b, acc, input_precision="ieee")
        else:
            acc = tl.dot(a, b, acc)
        a_ptrs += BLOCK_K * stride_ak
        b_ptrs += BLOCK_K * stride_bk

    c_ptrs = c_ptr + rm[:, None] * stride_cm + rn[None, :] * stride_cn
    c_mask = (rm[:, None] < M) & (rn[None, :] < N)
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=c_mask)


_KEY = ["M", "N", "K"]
_matmul_16bit = triton.autotune(configs=_CONFIGS_16BIT, key=_KEY)(_matmul_kernel)
_matmul_fp32 = triton.autotune(configs=_CONFIGS_FP32, key=_KEY)(_matmul_kernel)


def matmul(a, b, out) -> None:
    M, K = a.shape
    K2, N = b.shape
    assert K == K2 and tuple(out.shape) == (M, N)
    assert a.dtype == b.dtype == out.dtype
    ieee = a.dtype == torch.float32
    kernel = _matmul_fp32 if ieee else _matmul_16bit
    grid = lambda META: (triton.cdiv(M, META["BLOCK_M"]) * triton.cdiv(N, META["BLOCK_N"]),)
    kernel[grid](
        a, b, out, M, N, K,
        a.stride(0), a.stride(1), b.stride(0), b.stride(1), out.stride(0), out.stride(1),
        IEEE=ieee,
    )
