# Improved Triton fused multi-head attention (forward):
#   out = softmax(q @ k^T * scale [+ causal mask]) @ v, never materializing the S x S matrix.
# Entry point: fmha(q, k, v, out, causal, scale) with q, k, v, out (B, H, S, D), one dtype
# (bf16/fp16/fp32), D in {64, 128}.
# Design: one program per (BLOCK_M-query block, batch*head), Q tile kept in registers, K/V
# walked in BLOCK_N blocks with an online softmax (running row max m and row sum l in fp32,
# fp32 accumulator rescaled per block, divided by l at the end). Scores are kept in the log2
# domain: log2(e) is folded into the scale and exp2 is used throughout.
# The key loop is split so that only the blocks needing a mask pay for it:
#   causal:     keys [0, start_m*BLOCK_M) are all <= every query of the block -> no mask;
#               the diagonal keys [start_m*BLOCK_M, min(end of block, S)) -> causal + S mask;
#               keys past the diagonal (fully masked) are never visited.
#   non-causal: the whole BLOCK_N blocks below S -> no mask; the ragged tail -> S mask.
# Every config has BLOCK_M % BLOCK_N == 0, so the diagonal starts on a key-block boundary.
# The first visited block always holds an unmasked key for every row, so m stays finite.
# @triton.autotune over BLOCK_M/BLOCK_N/num_warps/num_stages keyed on (S, D, causal) (plus
# dtypes, added by the autotuner), with a separate smaller config set for fp32, whose tl.dot
# runs in IEEE precision (no TF32). Query rows >= S are zero-filled and not stored.
import torch
import triton
import triton.language as tl

_LOG2E = 1.4426950408889634


def _cfg(bm, bn, warps, stages):
    return triton.Config({"BLOCK_M": bm, "BLOCK_N": bn}, num_warps=warps, num_stages=stages)


_CONFIGS_16BIT = [
    _cfg(128, 64, 4, 3),
    _cfg(128, 64, 4, 4),
    _cfg(128, 64, 8, 3),
    _cfg(128, 128, 8, 2),
    _cfg(128, 32, 4, 4),
    _cfg(64, 64, 4, 3),
    _cfg(64, 64, 4, 4),
    _cfg(64, 32, 4, 4),
]

_CONFIGS_FP32 = [
    _cfg(128, 64, 8, 2),
    _cfg(64, 64, 4, 2),
    _cfg(64, 64, 8, 2),
    _cfg(64, 32, 4, 2),
    _cfg(32, 32, 4, 2),
]


@triton.jit
def _dot(a, b, acc, IEEE: tl.constexpr):
    if IEEE:
        acc = tl.dot(a, b, acc, input_precision="ieee")
    else:
        acc = tl.dot(a, b, acc)
    return acc


@triton.jit
def _attn_inner(acc, l_i, m_i, q, k_base, v_base,
                stride_ks, stride_kd, stride_vs, stride_vd,
                offs_m, offs_n, offs_d, S, qk_scale, lo, hi,
                BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr,
                MASKED: tl.constexpr, CAUSAL: tl.constexpr, IEEE: tl.constexpr):
    for start_n in range(lo, hi, BLOCK_N):
        start_n = tl.multiple_of(start_n, BLOCK_N)
        cols = start_n + offs_n
        kt_ptrs = k_base + cols[None, :] * stride_ks + offs_d[:, None] * stride_kd  # (D, BLOCK_N)
        v_ptrs = v_base + cols[:, None] * stride_vs + offs_d[None, :] * stride_vd   # (BLOCK_N, D)
        if MASKED:
            kt = tl.load(kt_ptrs, mask=cols[None, :] < S, other=0.0)
        else:
            kt = tl.load(kt_ptrs)
        qk = _dot(q, kt, tl.zeros([BLOCK_M, BLOCK_N], dtype=tl.float32), IEEE) * qk_scale
        if MASKED:
            valid = cols[None, :] < S
            if CAUSAL:
                valid = valid & (offs_m[:, None] >= cols[None, :])
            qk = tl.where(valid, qk, float("-inf"))

        m_new = tl.maximum(m_i, tl.max(qk, 1))
        alpha = tl.math.exp2(m_i - m_new)
        p = tl.math.exp2(qk - m_new[:, None])
        l_i = l_i * alpha + tl.sum(p, 1)

        if MASKED:
            v = tl.load(v_ptrs, mask=cols[:, None] < S, other=0.0)
        else:
            v = tl.load(v_ptrs)
        acc = _dot(p.to(v.dtype), v, acc * alpha[:, None], IEEE)
        m_i = m_new
    return acc, l_i, m_i


@triton.jit
def _fmha_kernel(Q, K, V, O, H, S, qk_scale,
                 stride_qb, stride_qh, stride_qs, stride_qd,
                 stride_kb, stride_kh, stride_ks, stride_kd,
                 stride_vb, stride_vh, stride_vs, stride_vd,
                 stride_ob, stride_oh, stride_os, stride_od,
                 D: tl.constexpr, CAUSAL: tl.constexpr, IEEE: tl.constexpr,
                 BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    start_m = tl.program_id(0)
    off_bh = tl.program_id(1)
    off_b = (off_bh // H).to(tl.int64)
    off_h = (off_bh % H).to(tl.int64)
    q_base = Q + off_b * stride_qb + off_h * stride_qh
    k_base = K + off_b * stride_kb + off_h * stride_kh
    v_base = V + off_b * stride_vb + off_h * stride_vh
    o_base = O + off_b * stride_ob + off_h * stride_oh

    offs_m = start_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_n = tl.arange(0, BLOCK_N)
    offs_d = tl.arange(0, D)

    q = tl.load(q_base + offs_m[:, None] * stride_qs + offs_d[None, :] * stride_qd,
                mask=offs_m[:, None] < S, other=0.0)

    m_i = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, D], dtype=tl.float32)

    if CAUSAL:
        diag_lo = start_m * BLOCK_M
        diag_hi = tl.minimum(diag_lo + BLOCK_M, S)
        acc, l_i, m_i = _attn_inner(acc, l_i, m_i, q, k_base, v_base,
                                    stride_ks, stride_kd, stride_vs, stride_vd,
                                    offs_m, offs_n, offs_d, S, qk_scale, 0, diag_lo,
                                    BLOCK_M, BLOCK_N, False, CAUSAL, IEEE)
        acc, l_i, m_i = _attn_inner(acc, l_i, m_i, q, k_base, v_base,
                                    stride_ks, stride_kd, stride_vs, stride_vd,
                                    offs_m, offs_n, offs_d, S, qk_scale, diag_lo, diag_hi,
                                    BLOCK_M, BLOCK_N, True, CAUSAL, IEEE)
    else:
        full_hi = (S // BLOCK_N) * BLOCK_N
        acc, l_i, m_i = _attn_inner(acc, l_i, m_i, q, k_base, v_base,
                                    stride_ks, stride_kd, stride_vs, stride_vd,
                                    offs_m, offs_n, offs_d, S, qk_scale, 0, full_hi,
                                    BLOCK_M, BLOCK_N, False, CAUSAL, IEEE)
        acc, l_i, m_i = _attn_inner(acc, l_i, m_i, q, k_base, v_base,
                                    stride_ks, stride_kd, stride_vs, stride_vd,
                                    offs_m, offs_n, offs_d, S, qk_scale, full_hi, S,
                                    BLOCK_M, BLOCK_N, True, CAUSAL, IEEE)

    acc = acc / l_i[:, None]
    tl.store(o_base + offs_m[:, None] * stride_os + offs_d[None, :] * stride_od,
             acc.to(O.dtype.element_ty), mask=offs_m[:, None] < S)


_KEY = ["S", "D", "CAUSAL"]
_fmha_16bit = triton.autotune(configs=_CONFIGS_16BIT, key=_KEY)(_fmha_kernel)
_fmha_fp32 = triton.autotune(configs=_CONFIGS_FP32, key=_KEY)(_fmha_kernel)


def fmha(q, k, v, out, causal, scale) -> None:
    B, H, S, D = q.shape
    assert k.shape == q.shape and v.shape == q.shape and out.shape == q.shape
    assert q.dtype == k.dtype == v.dtype == out.dtype
    assert D in (64, 128)
    ieee = q.dtype == torch.float32
    kernel = _fmha_fp32 if ieee else _fmha_16bit
    grid = lambda META: (triton.cdiv(S, META["BLOCK_M"]), B * H)
    kernel[grid](
        q, k, v, out, H, S, float(scale) * _LOG2E,
        q.stride(0), q.stride(1), q.stride(2), q.stride(3),
        k.stride(0), k.stride(1), k.stride(2), k.stride(3),
        v.stride(0), v.stride(1), v.stride(2), v.stride(3),
        out.stride(0), out.stride(1), out.stride(2), out.stride(3),
        D=D, CAUSAL=bool(causal), IEEE=ieee,
    )
