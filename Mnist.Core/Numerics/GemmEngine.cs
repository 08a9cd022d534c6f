using System.Runtime.CompilerServices;

namespace Mnist.Core.Numerics;

/// <summary>Instruction set a GEMM call runs on (chosen once at start-up; tests may pick a lower one).</summary>
internal enum GemmIsa
{
    Scalar,
    Avx2,
    Avx512,
}

/// <summary>Which algorithm handles a call; chosen from the shape only, never from the thread count.</summary>
internal enum GemmPath
{
    /// <summary>Packed-B blocked product with register tiles, A read in place.</summary>
    General,

    /// <summary>n ≤ 16, A not transposed: each output is a dot product along k, vectorised over k.</summary>
    NarrowDot,

    /// <summary>n small, A transposed (e.g. Xᵀ·G with huge k): computes Cᵀ = op(B)ᵀ·A with A streamed as the wide operand.</summary>
    NarrowSwapped,
}

/// <summary>One GEMM call, by raw pointers (the caller pins the spans for the duration of the call).</summary>
internal unsafe struct GemmProblem
{
    public float* A;
    public nint Lda;
    public bool TransA;
    public float* B;
    public nint Ldb;
    public bool TransB;
    public float* C;
    public nint Ldc;
    public int M;
    public int N;
    public int K;
    public float Alpha;
    public float Beta;
}

/// <summary>
/// The blocked GEMM for one instruction set. Loop order (BLIS-style, with the roles suited to row-major C and
/// vectors along n): for each NC-wide column block and KC-deep slice of k, B is packed into k-major micro-panels
/// (TN·W floats per k step, 64-byte aligned; the KC×NC block stays in L2). Then for each MR-row strip of A — read
/// in place, its MR×KC slice stays in L1 — the micro-kernel sweeps the packed panels. Every output element
/// accumulates its products in increasing k order inside each KC slice and the slices are added in order, so the
/// result does not depend on how rows or columns are split between threads.
/// </summary>
internal static unsafe class GemmEngine<TOps, TVec>
    where TOps : struct, IVectorOps<TVec>
    where TVec : struct
{
    /// <summary>Depth of a k slice: a 6×KC strip of A (6 KiB) lives in L1 beside the streamed B panel.</summary>
    public const int KC = 256;

    /// <summary>Width of a packed B block: KC×NC floats = 512 KiB, half of Zen 5's 1 MiB L2.</summary>
    public const int NC = 512;

    /// <summary>k chunk of the dot-product path: bounds the transposed-B slice that must stay cached (16·4096·4 B = 256 KiB).</summary>
    public const int DotKC = 4096;

    private const int MR = GemmKernels<TOps, TVec>.MR;

    /// <summary>Width of a full B micro-panel.</summary>
    public static int NR => TOps.MaxTileVectors * TOps.Width;

    // ---------------------------------------------------------------- general path

    // Tuning knobs (internal so the benchmark can sweep them).
    internal static int TuneKC = KC, TuneNC = NC, TuneMC = 768;
    internal static bool TunePanelStationary;

    /// <summary>Computes rows [i0, i1) × columns [j0, j1) of C, all of k, on the calling thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    public static void General(in GemmProblem p, int i0, int i1, int j0, int j1)
    {
        int w = TOps.Width, nr = NR;
        int KC = TuneKC, NC = TuneNC, MC = TuneMC;
        int kcMax = Math.Min(KC, p.K);
        int ncMax = Math.Min(NC, j1 - j0);
        float* packB = ScratchBuffer.PackB.Get((long)kcMax * RoundUp(ncMax, nr));
        // In-place A: element (r, p) at a[r·rs + p·ks].
        nint rs = p.TransA ? 1 : p.Lda;
        nint ks = p.TransA ? p.Lda : 1;

        for (int jc = j0; jc < j1; jc += NC)
        {
            int nb = Math.Min(NC, j1 - jc);
            for (int pc = 0; pc < p.K; pc += KC)
            {
                int kb = Math.Min(KC, p.K - pc);
                PackB(p, pc, kb, jc, nb, packB);
                // Later k slices add onto what the earlier ones stored.
                float beta = pc == 0 ? p.Beta : 1f;
                if (TunePanelStationary)
                {
                    for (int mc = i0; mc < i1; mc += MC)
                    {
                        int mEnd = Math.Min(i1, mc + MC);
                        for (int jq = 0; jq < nb; jq += nr)
                        {
                            int width = Math.Min(nr, nb - jq);
                            int tn = (width + w - 1) / w;
                            int lastCols = width - (tn - 1) * w;
                            for (int ic = mc; ic < mEnd; ic += MR)
                            {
                                int mr = Math.Min(MR, mEnd - ic);
                                float* a = p.TransA ? p.A + pc * p.Lda + ic : p.A + ic * p.Lda + pc;
                                GemmKernels<TOps, TVec>.TileAny(
                                    mr, tn, kb, a, rs, ks, packB + (nint)jq * kb, tn * w, p.C + ic * p.Ldc + jc + jq, p.Ldc, lastCols, p.Alpha, beta);
                            }
                        }
                    }
                    continue;
                }
                for (int ic = i0; ic < i1; ic += MR)
                {
                    int mr = Math.Min(MR, i1 - ic);
                    float* a = p.TransA ? p.A + pc * p.Lda + ic : p.A + ic * p.Lda + pc;
                    float* c = p.C + ic * p.Ldc + jc;
                    for (int jq = 0; jq < nb; jq += nr)
                    {
                        int width = Math.Min(nr, nb - jq);
                        int tn = (width + w - 1) / w;
                        int lastCols = width - (tn - 1) * w;
                        GemmKernels<TOps, TVec>.TileAny(
                            mr, tn, kb, a, rs, ks, packB + (nint)jq * kb, tn * w, c + jq, p.Ldc, lastCols, p.Alpha, beta);
                    }
                }
            }
        }
    }

    /// <summary>
    /// Packs op(B)[pc..pc+kb, jc..jc+nb] as consecutive micro-panels: panel q starts at dst + q·NR·kb and holds
    /// kb rows of its width rounded up to whole vectors (zero-padded, so edge tiles need no masked loads).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    private static void PackB(in GemmProblem p, int pc, int kb, int jc, int nb, float* dst)
    {
        int w = TOps.Width, nr = NR;
        for (int jq = 0; jq < nb; jq += nr)
        {
            int width = Math.Min(nr, nb - jq);
            int stride = RoundUp(width, w);
            float* panel = dst + (nint)jq * kb;
            if (!p.TransB)
            {
                float* src = p.B + pc * p.Ldb + jc + jq;
                if (width == nr)
                {
                    for (int k = 0; k < kb; k++, src += p.Ldb, panel += stride)
                        for (int v = 0; v < nr; v += w)
                            TOps.Store(panel + v, TOps.Load(src + v));
                }
                else
                {
                    for (int k = 0; k < kb; k++, src += p.Ldb, panel += stride)
                    {
                        int j = 0;
                        for (; j + w <= width; j += w) TOps.Store(panel + j, TOps.Load(src + j));
                        for (; j < width; j++) panel[j] = src[j];
                        for (; j < stride; j++) panel[j] = 0f;
                    }
                }
            }
            else
            {
                // op(B)[k][j] = B[j][k]: each source row of B becomes one column of the panel.
                PackTransposed(p.B + (jc + jq) * p.Ldb + pc, p.Ldb, width, kb, panel, stride);
            }
        }
    }

    /// <summary>dst[k·stride + j] = src[j·ld + k] for j &lt; width, k &lt; kb; columns width..stride are zeroed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    private static void PackTransposed(float* src, nint ld, int width, int kb, float* dst, int stride)
    {
        // Blocks of 16 k keep the written panel rows hot while each source row is read sequentially.
        for (int k0 = 0; k0 < kb; k0 += 16)
        {
            int kn = Math.Min(16, kb - k0);
            for (int j = 0; j < width; j++)
            {
                float* s = src + j * ld + k0;
                float* d = dst + (nint)k0 * stride + j;
                for (int k = 0; k < kn; k++) d[k * stride] = s[k];
            }
            for (int j = width; j < stride; j++)
                for (int k = 0; k < kn; k++) dst[(nint)(k0 + k) * stride + j] = 0f;
        }
    }

    // ---------------------------------------------------------------- narrow dot-product path

    /// <summary>Column groups of the dot path: ≤ 12 columns in one group, 13..16 in two.</summary>
    public static int DotGroupColumns(int n, int group) => n <= 12 ? (group == 0 ? n : 0) : (group == 0 ? (n + 1) / 2 : n / 2);

    /// <summary>Floats needed by <see cref="PackDotB"/>.</summary>
    public static long DotPackedLength(int n, int k) => (long)RoundUp(k, TOps.Width) * n;

    /// <summary>
    /// Packs op(B) (k×n, n ≤ 16) for the dot path: per column group of TJ columns, for each k vector q, the TJ
    /// vectors op(B)[q·W.., j] are consecutive (zero past k), so the kernel walks one pointer.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    public static void PackDotB(in GemmProblem p, float* dst)
    {
        int w = TOps.Width;
        int kv = (p.K + w - 1) / w;
        int j0 = 0;
        for (int g = 0; g < 2; g++)
        {
            int tj = DotGroupColumns(p.N, g);
            if (tj == 0) break;
            float* d = dst + (nint)j0 * kv * w;
            for (int q = 0; q < kv; q++)
                for (int j = 0; j < tj; j++)
                {
                    float* v = d + ((nint)q * tj + j) * w;
                    for (int l = 0; l < w; l++)
                    {
                        int k = q * w + l;
                        v[l] = k >= p.K ? 0f : p.TransB ? p.B[(j0 + j) * p.Ldb + k] : p.B[k * p.Ldb + j0 + j];
                    }
                }
            j0 += tj;
        }
    }

    /// <summary>Rows [i0, i1) of C for the dot path, given op(B) packed by <see cref="PackDotB"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    public static void Dot(in GemmProblem p, float* packed, int i0, int i1)
    {
        int w = TOps.Width;
        int kv = (p.K + w - 1) / w;
        for (int k0 = 0; k0 < p.K; k0 += DotKC)
        {
            int kn = Math.Min(DotKC, p.K - k0);
            float beta = k0 == 0 ? p.Beta : 1f;
            int j0 = 0;
            for (int g = 0; g < 2; g++)
            {
                int tj = DotGroupColumns(p.N, g);
                if (tj == 0) break;
                float* bt = packed + (nint)j0 * kv * w + (nint)(k0 / w) * tj * w;
                for (int i = i0; i < i1; i += 2)
                {
                    float* a = p.A + i * p.Lda + k0;
                    float* c = p.C + i * p.Ldc + j0;
                    if (i + 1 < i1) DotAny<C2>(tj, kn, a, p.Lda, bt, c, p.Ldc, p.Alpha, beta);
                    else DotAny<C1>(tj, kn, a, p.Lda, bt, c, p.Ldc, p.Alpha, beta);
                }
                j0 += tj;
            }
        }
    }

    private static void DotAny<TR>(int tj, int k, float* a, nint lda, float* bt, float* c, nint ldc, float alpha, float beta)
        where TR : struct, IConstant
    {
        switch (tj)
        {
            case 12: GemmDotKernels<TOps, TVec>.Tile<TR, C12>(k, a, lda, bt, c, ldc, alpha, beta); break;
            case 11: GemmDotKernels<TOps, TVec>.Tile<TR, C11>(k, a, lda, bt, c, ldc, alpha, beta); break;
            case 10: GemmDotKernels<TOps, TVec>.Tile<TR, C10>(k, a, lda, bt, c, ldc, alpha, beta); break;
            case 9: GemmDotKernels<TOps, TVec>.Tile<TR, C9>(k, a, lda, bt, c, ldc, alpha, beta); break;
            case 8: GemmDotKernels<TOps, TVec>.Tile<TR, C8>(k, a, lda, bt, c, ldc, alpha, beta); break;
            case 7: GemmDotKernels<TOps, TVec>.Tile<TR, C7>(k, a, lda, bt, c, ldc, alpha, beta); break;
            case 6: GemmDotKernels<TOps, TVec>.Tile<TR, C6>(k, a, lda, bt, c, ldc, alpha, beta); break;
            case 5: GemmDotKernels<TOps, TVec>.Tile<TR, C5>(k, a, lda, bt, c, ldc, alpha, beta); break;
            case 4: GemmDotKernels<TOps, TVec>.Tile<TR, C4>(k, a, lda, bt, c, ldc, alpha, beta); break;
            case 3: GemmDotKernels<TOps, TVec>.Tile<TR, C3>(k, a, lda, bt, c, ldc, alpha, beta); break;
            case 2: GemmDotKernels<TOps, TVec>.Tile<TR, C2>(k, a, lda, bt, c, ldc, alpha, beta); break;
            default: GemmDotKernels<TOps, TVec>.Tile<TR, C1>(k, a, lda, bt, c, ldc, alpha, beta); break;
        }
    }

    // ---------------------------------------------------------------- helpers

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
