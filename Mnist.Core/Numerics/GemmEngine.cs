using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    /// <summary>Least depth of a k slice; a 6×KC strip of A (6 KiB) stays in L1 beside the streamed B panel.</summary>
    public const int KC = 256;

    /// <summary>Greatest depth of a k slice (for narrow B): the A strip, 6×1024 floats, still fits in L2 comfortably.</summary>
    public const int MaxKC = 1024;

    /// <summary>Width of a packed B block: KC×NC floats = 512 KiB, half of Zen 5's 1 MiB L2.</summary>
    public const int NC = 512;

    /// <summary>Floats in a packed B block (KC×NC), the L2 budget that sets the slice depth.</summary>
    public const int PackedBlockFloats = KC * NC;

    // Block sizes in use; internal and settable only so the benchmark can sweep them.
    internal static int MinSliceDepth = KC, BlockWidth = NC, BlockFloats = PackedBlockFloats;

    /// <summary>k chunk of the dot-product path: bounds the transposed-B slice that must stay cached (16·4096·4 B = 256 KiB).</summary>
    public const int DotKC = 4096;

    private const int MR = GemmKernels<TOps, TVec>.MR;

    /// <summary>Width of a full B micro-panel.</summary>
    public static int NR => TOps.MaxTileVectors * TOps.Width;

    // ---------------------------------------------------------------- general path

    /// <summary>Elements of C (32 MiB, the L3 size) from which C is streamed through memory once per k slice.</summary>
    public const long HugeOutput = 8L << 20;

    /// <summary>
    /// Slice depth and block width for a problem. Normally the slices are as deep as lets the packed KC×NC block
    /// fill <see cref="PackedBlockFloats"/> (narrow B gets deep slices, so A rows are read in long runs), capped at
    /// <see cref="MaxKC"/>. A C larger than L3 is read and written from memory once per slice, which on two threads
    /// becomes the bottleneck (k-NN, 2000×60000 output: 1.0× → 2.0× scaling), so then the slices are as deep as
    /// allowed and the block narrows to keep the packed block in L2. Either way the slices are evened out
    /// (k = 784 → 4 × 196, not 3 × 256 + 16). Depends on the shape only — never on a thread's share — so every
    /// element sums in the same order.
    /// </summary>
    public static (int Depth, int Width) Blocking(in GemmProblem p)
    {
        bool hugeOutput = (long)p.M * p.N >= HugeOutput;
        int nb = RoundUp(Math.Min(BlockWidth, p.N), NR);
        int target = hugeOutput ? MaxKC : Math.Clamp(BlockFloats / nb, MinSliceDepth, MaxKC);
        int slices = (p.K + target - 1) / target;
        int depth = (p.K + slices - 1) / slices;
        int width = hugeOutput ? Math.Max(2 * NR, BlockFloats / depth / NR * NR) : BlockWidth;
        return (depth, width);
    }

    /// <summary>Computes rows [i0, i1) × columns [j0, j1) of C, all of k, on the calling thread.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    public static void General(in GemmProblem p, int i0, int i1, int j0, int j1)
    {
        int w = TOps.Width, nr = NR;
        (int kc, int NC) = Blocking(p);
        float* packB = ScratchBuffer.PackB.Get((long)kc * RoundUp(Math.Min(NC, j1 - j0), nr));
        // In-place A: element (r, p) at a[r·rs + p·ks].
        nint rs = p.TransA ? 1 : p.Lda;
        nint ks = p.TransA ? p.Lda : 1;

        // With only a strip or two of rows, packing B would cost about as much as the multiply; full-width
        // panels of a row-major B are then read in place (same arithmetic, so results are unchanged).
        bool bInPlace = !p.TransB && i1 - i0 <= 2 * MR;

        for (int jc = j0; jc < j1; jc += NC)
        {
            int nb = Math.Min(NC, j1 - jc);
            int fullPanels = bInPlace ? nb / nr * nr : 0;
            for (int pc = 0; pc < p.K; pc += kc)
            {
                int kb = Math.Min(kc, p.K - pc);
                if (fullPanels < nb) PackB(p, pc, kb, jc + fullPanels, nb - fullPanels, packB + (nint)fullPanels * kb);
                // Later k slices add onto what the earlier ones stored.
                var scale = new TileScale(p.Alpha, pc == 0 ? p.Beta : 1f);
                for (int ic = i0; ic < i1; ic += MR)
                {
                    int mr = Math.Min(MR, i1 - ic);
                    float* a = p.TransA ? p.A + pc * p.Lda + ic : p.A + ic * p.Lda + pc;
                    float* c = p.C + ic * p.Ldc + jc;
                    if (!p.TransA && Sse.IsSupported && ic + MR < i1)
                    {
                        // The next strip's short row segments (kb floats at stride lda) are too scattered for the
                        // hardware prefetcher; request them into L2 while this strip computes.
                        for (int r = 0; r < Math.Min(MR, i1 - ic - MR); r++)
                            for (int k = 0; k < kb; k += 16)
                                Sse.Prefetch1(a + (MR + r) * p.Lda + k);
                    }
                    for (int jq = 0; jq < nb; jq += nr)
                    {
                        int width = Math.Min(nr, nb - jq);
                        int tn = (width + w - 1) / w;
                        int lastCols = width - (tn - 1) * w;
                        bool inPlace = jq < fullPanels;
                        GemmKernels<TOps, TVec>.TileAny(
                            mr, tn, kb, a, rs, ks,
                            inPlace ? p.B + pc * p.Ldb + jc + jq : packB + (nint)jq * kb, inPlace ? p.Ldb : tn * w,
                            c + jq, p.Ldc, lastCols, scale);
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
        if (p.TransB)
        {
            // op(B)[k][j] = B[j][k]: each source row of B becomes one column of a panel.
            for (int jq = 0; jq < nb; jq += nr)
            {
                int width = Math.Min(nr, nb - jq);
                PackTransposed(p.B + (jc + jq) * p.Ldb + pc, p.Ldb, width, kb, dst + (nint)jq * kb, RoundUp(width, w));
            }
            return;
        }

        // Row by row, so B is read as one sequential stream (for a contiguous B, the whole slice is one run of
        // memory) while the writes scatter into the panels, which stay cached. Reading panel by panel instead
        // walks B in 256-byte pieces at the row stride, which the hardware prefetcher follows poorly.
        int fullWidth = nb / nr * nr;
        int tail = nb - fullWidth, tailStride = RoundUp(tail, w);
        for (int k = 0; k < kb; k++)
        {
            float* src = p.B + (pc + k) * p.Ldb + jc;
            if (Sse.IsSupported)
                for (int j = 0; j < nb; j += 16) Sse.Prefetch0(src + 4 * p.Ldb + j);
            float* d = dst + (nint)k * nr;
            for (int jq = 0; jq < fullWidth; jq += nr, d += (nint)nr * kb)
                for (int v = 0; v < nr; v += w)
                    TOps.Store(d + v, TOps.Load(src + jq + v));
            if (tail > 0)
            {
                float* t = dst + (nint)fullWidth * kb + (nint)k * tailStride;
                float* s = src + fullWidth;
                int j = 0;
                for (; j + w <= tail; j += w) TOps.Store(t + j, TOps.Load(s + j));
                for (; j < tail; j++) t[j] = s[j];
                for (; j < tailStride; j++) t[j] = 0f;
            }
        }
    }

    /// <summary>dst[k·stride + j] = src[j·ld + k] for j &lt; width, k &lt; kb; columns width..stride are zeroed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    private static void PackTransposed(float* src, nint ld, int width, int kb, float* dst, int stride)
    {
        int j0 = 0, k8 = 0;
        if (Avx.IsSupported)
        {
            // 8×8 blocks transposed in registers: ~1 instruction per element instead of a scalar
            // load/store pair with a strided store.
            k8 = kb & ~7;
            for (; j0 + 8 <= width; j0 += 8)
                for (int k = 0; k < k8; k += 8)
                    Transpose8x8(src + j0 * ld + k, ld, dst + (nint)k * stride + j0, stride);
        }
        // Leftover columns (all k), then leftover k rows of the 8-column blocks.
        for (int k0 = 0; k0 < kb; k0 += 16)
        {
            int kn = Math.Min(16, kb - k0);
            for (int j = j0; j < width; j++)
            {
                float* s = src + j * ld + k0;
                float* d = dst + (nint)k0 * stride + j;
                for (int k = 0; k < kn; k++) d[k * stride] = s[k];
            }
            for (int j = width; j < stride; j++)
                for (int k = 0; k < kn; k++) dst[(nint)(k0 + k) * stride + j] = 0f;
        }
        for (int j = 0; j < j0; j++)
            for (int k = k8; k < kb; k++) dst[(nint)k * stride + j] = src[j * ld + k];
    }

    /// <summary>Transposes the 8×8 block at src (row stride ld) into dst (row stride dstStride).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose8x8(float* src, nint ld, float* dst, nint dstStride) =>
        RegisterTranspose.Transpose8x8(src, src + ld, src + 2 * ld, src + 3 * ld, src + 4 * ld, src + 5 * ld, src + 6 * ld, src + 7 * ld, dst, dstStride);

    // ---------------------------------------------------------------- swapped narrow path

    /// <summary>Depth of the swapped path's k slices (rows of A); internal so the benchmark can sweep it.</summary>
    internal static int SwappedSliceDepth = 16;

    /// <summary>Width of a swapped-path panel: two vectors.</summary>
    public static int SwappedPanel => 2 * TOps.Width;

    /// <summary>
    /// For op(A) = Aᵀ with few outputs per row (n ≤ 24): computes columns [i0, i1) of Cᵀ = op(B)ᵀ·A into
    /// <paramref name="ct"/> (n × m, row stride <paramref name="ldt"/>), with α = 1 and β = 0. A (k×m, row-major) is
    /// the wide operand and is read in place — each element exactly once when n ≤ 12 — instead of being packed,
    /// since every packed element would be used by only one or two strips. op(B)ᵀ (n×k) is read in place too.
    /// Slices of A are shallow (16 rows), so the n × (i1−i0) block of Cᵀ stays in L1 between slices, and while one
    /// slice is computed the next is prefetched in address order: a sequential sweep that the memory system
    /// serves at full bandwidth, where the kernel's own column-panel order would scatter the requests.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    public static void NarrowSwapped(in GemmProblem p, float* ct, nint ldt, int i0, int i1)
    {
        int w = TOps.Width, panel = SwappedPanel;
        int kc = SwappedSliceDepth;
        float* tailPack = ScratchBuffer.PackB.Get((long)kc * panel);
        // op(B)ᵀ element (j, k) = op(B)[k][j].
        nint rs = p.TransB ? p.Ldb : 1;
        nint ks = p.TransB ? 1 : p.Ldb;
        int linesPerRow = (i1 - i0 + 15) / 16 + 1;
        int panels = (i1 - i0 + panel - 1) / panel;
        for (int pc = 0; pc < p.K; pc += kc)
        {
            int kb = Math.Min(kc, p.K - pc);
            var scale = new TileScale(1f, pc == 0 ? 0f : 1f);
            // Prefetch cursor over the next slice, row-major: ~1/panels of it before each panel's kernel.
            int nextRows = Math.Min(kc, p.K - pc - kb);
            int linesTotal = nextRows * linesPerRow, linesPerPanel = (linesTotal + panels - 1) / Math.Max(panels, 1), line = 0;
            float* nextRow = p.A + (pc + kb) * p.Lda + i0;
            int lineInRow = 0;
            for (int jq = i0; jq < i1; jq += panel)
            {
                if (Sse.IsSupported)
                {
                    for (int end = Math.Min(linesTotal, line + linesPerPanel); line < end; line++)
                    {
                        Sse.Prefetch0(nextRow + lineInRow * 16);
                        if (++lineInRow == linesPerRow)
                        {
                            lineInRow = 0;
                            nextRow += p.Lda;
                        }
                    }
                }
                int width = Math.Min(panel, i1 - jq);
                int tn = (width + w - 1) / w;
                int lastCols = width - (tn - 1) * w;
                float* b = p.A + pc * p.Lda + jq;
                nint bStride = p.Lda;
                if (lastCols != w)
                {
                    // A ragged last panel is copied (zero-padded) so no load runs past the end of A.
                    for (int k = 0; k < kb; k++)
                        for (int j = 0; j < tn * w; j++)
                            tailPack[k * tn * w + j] = j < width ? b[k * p.Lda + j] : 0f;
                    b = tailPack;
                    bStride = tn * w;
                }
                for (int j0 = 0; j0 < p.N; j0 += GemmTallKernels<TOps, TVec>.MR)
                {
                    int mr = Math.Min(GemmTallKernels<TOps, TVec>.MR, p.N - j0);
                    float* a = p.TransB ? p.B + j0 * p.Ldb + pc : p.B + pc * p.Ldb + j0;
                    GemmTallKernels<TOps, TVec>.TileAny(
                        mr, tn, kb, a, rs, ks, b, bStride, ct + j0 * ldt + jq, ldt, lastCols, scale, 0);
                }
            }
        }
    }

    // ---------------------------------------------------------------- narrow dot-product path

    /// <summary>Most columns per dot-path pass: 2 rows × 12 = 24 accumulators on AVX-512, 2 × 6 on 16-register AVX2.</summary>
    private static int DotMaxColumns => TOps.MaxTileVectors >= 4 ? 12 : 6;

    /// <summary>Column groups of the dot path: n split into the fewest passes of ≤ <see cref="DotMaxColumns"/>, sizes as even as possible (0 past the last).</summary>
    public static int DotGroupColumns(int n, int group)
    {
        int groups = (n + DotMaxColumns - 1) / DotMaxColumns;
        return group >= groups ? 0 : n / groups + (group < n % groups ? 1 : 0);
    }

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
        for (int g = 0; ; g++)
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
            for (int g = 0; ; g++)
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
