#pragma once
// Marks a hot pixel loop to be compiled twice, for AVX2 and for the baseline x86-64 ISA, with
// the right one picked when the program loads. The build stays portable (no -march), and the
// results are the same bits: without FMA contraction, AVX2 adds, multiplies and divides round
// exactly as SSE2 ones do.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__SANITIZE_ADDRESS__) && \
    (!defined(__clang__) || __clang_major__ >= 14)
#define RISKMAP_VECTOR_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define RISKMAP_VECTOR_CLONES
#endif
