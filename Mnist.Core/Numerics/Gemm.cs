using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mnist.Core.Numerics;

/// <summary>Whether a matrix operand is used as stored or transposed.</summary>
internal enum Transpose
{
    No,
    Yes,
}

/// <summary>
/// Single-precision general matrix product, row-major: C = α·op(A)·op(B) + β·C, where op(A) is m×k,
/// op(B) is k×n and C is m×n, with leading dimensions (row strides) lda, ldb, ldc.
/// </summary>
/// <remarks>
/// Blocked, packed, register-tiled (see <see cref="GemmEngine{TOps,TVec}"/>), on AVX-512, AVX2+FMA or scalar code
/// chosen at run time. Deterministic: the same inputs give bit-identical output for any thread count, because the
/// algorithm and the order of additions for every element depend only on the shape, and threads only split C.
/// β = 0 overwrites C without reading it. No allocation per call once the per-thread pack buffers have grown.
/// C must not overlap A or B. Safe to call from several threads at once (each caller has its own buffers).
/// </remarks>
internal static class Gemm
{
    /// <summary>Below this many flops (2·m·n·k) a call runs on one thread: waking a helper costs more than it saves.</summary>
    internal const double ParallelThresholdFlops = 3e6;

    /// <summary>The instruction set this process uses.</summary>
    internal static readonly GemmIsa DefaultIsa =
        Vector512.IsHardwareAccelerated && Avx512F.IsSupported ? GemmIsa.Avx512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? GemmIsa.Avx2
        : GemmIsa.Scalar;

    /// <summary>C = α·op(A)·op(B) + β·C. <paramref name="threads"/> ≤ 0 means <see cref="ComputeSettings.Threads"/>.</summary>
    public static void Multiply(
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc, int threads = 0) =>
        Multiply(DefaultIsa, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, threads);

    /// <summary>C = A·B for contiguous row-major A (m×k), B (k×n), C (m×n).</summary>
    public static void Multiply(int m, int n, int k, ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> c, int threads = 0) =>
        Multiply(Transpose.No, Transpose.No, m, n, k, 1f, a, k, b, n, 0f, c, n, threads);

    /// <summary>As the public overload, on an explicit instruction set (tests use it to cover the fallbacks).</summary>
    internal static unsafe void Multiply(
        GemmIsa isa, Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc, int threads = 0)
    {
        bool ta = transA == Transpose.Yes, tb = transB == Transpose.Yes;
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        CheckOperand(nameof(a), a.Length, lda, ta ? k : m, ta ? m : k);
        CheckOperand(nameof(b), b.Length, ldb, tb ? n : k, tb ? k : n);
        CheckOperand(nameof(c), c.Length, ldc, m, n);
        if (m == 0 || n == 0) return;

        fixed (float* pa = a, pb = b, pc = c)
        {
            var problem = new GemmProblem
            {
                A = pa, Lda = lda, TransA = ta,
                B = pb, Ldb = ldb, TransB = tb,
                C = pc, Ldc = ldc,
                M = m, N = n, K = k, Alpha = alpha, Beta = beta,
            };
            if (k == 0 || alpha == 0f)
            {
                ScaleC(problem);
                return;
            }
            GemmJob.ForCurrentThread.Run(isa, problem, ComputeSettings.Resolve(threads));
        }
    }

    private static void CheckOperand(string name, int length, int ld, int rows, int columns)
    {
        if (rows == 0 || columns == 0) return;
        if (rows > 1 && ld < columns)
            throw new ArgumentException($"Leading dimension of {name} ({ld}) is smaller than its row width ({columns}).", name);
        if (length < (long)(rows - 1) * ld + columns)
            throw new ArgumentException($"{name} holds {length} floats; a {rows}×{columns} matrix with stride {ld} needs {(long)(rows - 1) * ld + columns}.", name);
    }

    /// <summary>C = β·C (k = 0 or α = 0: the product contributes nothing, and A and B are not read).</summary>
    private static unsafe void ScaleC(in GemmProblem p)
    {
        for (int i = 0; i < p.M; i++)
        {
            var row = new Span<float>(p.C + i * p.Ldc, p.N);
            if (p.Beta == 0f) row.Clear();
            else if (p.Beta != 1f) System.Numerics.Tensors.TensorPrimitives.Multiply(row, p.Beta, row);
        }
    }
}

/// <summary>
/// One GEMM call's plan: the path, how C is split between threads, and the shared inputs. One instance per
/// calling thread is reused, so a call allocates nothing.
/// </summary>
internal sealed unsafe class GemmJob : IParallelJob
{
    [ThreadStatic] private static GemmJob? t_job;

    public static GemmJob ForCurrentThread => t_job ??= new GemmJob();

    /// <summary>
    /// Parts per thread where extra parts are free: threads claim parts from a shared counter, so if one thread is
    /// descheduled (a busy machine) the others take over its share instead of waiting for it.
    /// </summary>
    private const int OverSplit = 4;

    private GemmProblem _problem;
    private GemmIsa _isa;
    private GemmPath _path;
    private bool _splitColumns;
    private int _unit;
    private int _parts;
    private float* _shared;
    private nint _sharedLd;
    private int _chunks;
    private int _chunkRows;
    private int _columnGroups;

    public void Run(GemmIsa isa, in GemmProblem problem, int threads)
    {
        _problem = problem;
        _isa = isa;
        (int width, int maxVectors) = isa switch
        {
            GemmIsa.Avx512 => (Avx512Ops.Width, Avx512Ops.MaxTileVectors),
            GemmIsa.Avx2 => (Avx2Ops.Width, Avx2Ops.MaxTileVectors),
            _ => (ScalarOps.Width, ScalarOps.MaxTileVectors),
        };
        int nr = width * maxVectors;
        int m = problem.M, n = problem.N, k = problem.K;

        // The path depends on the shape only, so the thread count never changes the arithmetic.
        _path = !problem.TransA && n <= 16 && k >= 4 * width && width > 1 ? GemmPath.NarrowDot
            : problem.TransA && n <= 24 && m >= 32 && width > 1 ? GemmPath.NarrowSwapped
            : GemmPath.General;

        double flops = 2.0 * m * n * k;
        if (flops < Gemm.ParallelThresholdFlops) threads = 1;
        int overSplit = threads > 1 ? OverSplit : 1;

        switch (_path)
        {
            case GemmPath.NarrowDot:
                _splitColumns = false;
                _unit = 2;
                _parts = Math.Min(threads * overSplit, (m + 1) / 2);
                _shared = ScratchBuffer.Shared.Get(DotPackedLength(isa, n, k));
                PackDotB(isa, problem, _shared);
                break;
            case GemmPath.NarrowSwapped:
            {
                // k is cut into chunks fixed by the shape; each chunk's Cᵀ (n×m) goes to its own scratch matrix and
                // the chunks are added in order afterwards. A part is (chunk, column group), so each part streams a
                // contiguous block of A's rows, and the sum never depends on the thread count. Column groups are
                // only needed when there are too few chunks to share out.
                _chunkRows = SwappedChunkRows(n, m, k);
                _chunks = (k + _chunkRows - 1) / _chunkRows;
                _unit = 2 * width;
                int columnUnits = (m + _unit - 1) / _unit;
                _columnGroups = threads > 1 && _chunks < 2 * threads ? Math.Min(threads, columnUnits) : 1;
                _parts = _chunks * _columnGroups;
                _sharedLd = m;
                _shared = ScratchBuffer.Shared.Get((long)_chunks * n * m);
                break;
            }
            default:
            {
                // Split whichever dimension divides more evenly into whole tiles (columns: 64-wide panels; rows:
                // 6-row strips). Splitting rows makes every thread pack the same B, so it needs enough rows.
                const int mr = GemmKernels<ScalarOps, float>.MR;
                int panels = (n + nr - 1) / nr, strips = (m + mr - 1) / mr;
                double columnBalance = (double)n / (threads * Math.Min(n, (panels + threads - 1) / threads * nr));
                double rowBalance = (double)m / (threads * Math.Min(m, (strips + threads - 1) / threads * mr));
                if (m < 4 * mr * threads) rowBalance *= 0.5;
                _splitColumns = columnBalance >= rowBalance;
                _unit = _splitColumns ? nr : mr;
                // Column parts share nothing, so over-split them (keeping ≥ 2 panels each); row parts would each
                // pack all of B again, so those stay one per thread.
                _parts = _splitColumns
                    ? Math.Min(panels, Math.Max(threads, Math.Min(threads * overSplit, panels / 2)))
                    : Math.Min(threads, strips);
                break;
            }
        }
        ParallelRunner.Run(this, _parts, threads);
        if (_path == GemmPath.NarrowSwapped) FinishSwapped();
    }

    /// <summary>
    /// Rows of A per chunk of the swapped path: about 2048, at most 64 chunks, and no more chunks than keep the
    /// partial results within 4M floats. A function of the shape only.
    /// </summary>
    private static int SwappedChunkRows(int n, int m, int k)
    {
        long maxChunks = Math.Clamp((4L << 20) / ((long)n * m), 1, 64);
        int chunks = (int)Math.Clamp((k + 2047L) / 2048, 1, maxChunks);
        return (k + chunks - 1) / chunks;
    }

    /// <summary>Adds the chunks' Cᵀ in chunk order, then writes C = α·(Σ Cᵀ)ᵀ + β·C.</summary>
    private void FinishSwapped()
    {
        ref readonly GemmProblem p = ref _problem;
        long size = (long)p.N * _sharedLd;
        var total = new Span<float>(_shared, (int)size);
        for (int chunk = 1; chunk < _chunks; chunk++)
            System.Numerics.Tensors.TensorPrimitives.Add(total, new ReadOnlySpan<float>(_shared + chunk * size, (int)size), total);
        for (int i = 0; i < p.M; i++)
        {
            float* c = p.C + i * p.Ldc;
            float* t = _shared + i;
            for (int j = 0; j < p.N; j++)
            {
                float v = p.Alpha * t[j * _sharedLd];
                c[j] = p.Beta == 0f ? v : v + p.Beta * c[j];
            }
        }
    }

    public void Execute(int part)
    {
        // Parts split C's columns or rows; on the swapped path, a part is a k chunk × a group of Cᵀ's columns.
        int extent = _path == GemmPath.NarrowSwapped ? _problem.M : _splitColumns ? _problem.N : _problem.M;
        int groups = _path == GemmPath.NarrowSwapped ? _columnGroups : _parts;
        int group = part % groups;
        int units = (extent + _unit - 1) / _unit;
        int lo = Math.Min(extent, (int)((long)units * group / groups) * _unit);
        int hi = Math.Min(extent, (int)((long)units * (group + 1) / groups) * _unit);
        if (lo >= hi) return;
        int chunk = part / groups;
        switch (_isa)
        {
            case GemmIsa.Avx512: Execute<Avx512Ops, Vector512<float>>(lo, hi, chunk); break;
            case GemmIsa.Avx2: Execute<Avx2Ops, Vector256<float>>(lo, hi, chunk); break;
            default: Execute<ScalarOps, float>(lo, hi, chunk); break;
        }
    }

    private void Execute<TOps, TVec>(int lo, int hi, int chunk)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        ref readonly GemmProblem p = ref _problem;
        switch (_path)
        {
            case GemmPath.NarrowDot:
                GemmEngine<TOps, TVec>.Dot(p, _shared, lo, hi);
                break;
            case GemmPath.NarrowSwapped:
            {
                int k0 = chunk * _chunkRows;
                GemmProblem slice = p;
                slice.A = p.A + k0 * p.Lda;
                slice.B = p.TransB ? p.B + k0 : p.B + k0 * p.Ldb;
                slice.K = Math.Min(_chunkRows, p.K - k0);
                GemmEngine<TOps, TVec>.NarrowSwapped(slice, _shared + (long)chunk * p.N * _sharedLd, _sharedLd, lo, hi);
                break;
            }
            default:
                if (_splitColumns) GemmEngine<TOps, TVec>.General(p, 0, p.M, lo, hi);
                else GemmEngine<TOps, TVec>.General(p, lo, hi, 0, p.N);
                break;
        }
    }

    private static long DotPackedLength(GemmIsa isa, int n, int k) => isa switch
    {
        GemmIsa.Avx512 => GemmEngine<Avx512Ops, Vector512<float>>.DotPackedLength(n, k),
        GemmIsa.Avx2 => GemmEngine<Avx2Ops, Vector256<float>>.DotPackedLength(n, k),
        _ => GemmEngine<ScalarOps, float>.DotPackedLength(n, k),
    };

    private static void PackDotB(GemmIsa isa, in GemmProblem p, float* dst)
    {
        switch (isa)
        {
            case GemmIsa.Avx512: GemmEngine<Avx512Ops, Vector512<float>>.PackDotB(p, dst); break;
            case GemmIsa.Avx2: GemmEngine<Avx2Ops, Vector256<float>>.PackDotB(p, dst); break;
            default: GemmEngine<ScalarOps, float>.PackDotB(p, dst); break;
        }
    }
}

/// <summary>The slow, obviously-correct twin of <see cref="Gemm"/> that the tests compare against (double accumulation).</summary>
internal static class ReferenceGemm
{
    public static void Multiply(
        Transpose transA, Transpose transB, int m, int n, int k,
        float alpha, ReadOnlySpan<float> a, int lda,
        ReadOnlySpan<float> b, int ldb,
        float beta, Span<float> c, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++)
                {
                    float av = transA == Transpose.No ? a[i * lda + p] : a[p * lda + i];
                    float bv = transB == Transpose.No ? b[p * ldb + j] : b[j * ldb + p];
                    sum += (double)av * bv;
                }
                ref float cij = ref c[i * ldc + j];
                cij = beta == 0f ? alpha * (float)sum : alpha * (float)sum + beta * cij;
            }
        }
    }
}
