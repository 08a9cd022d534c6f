using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using Mnist.Core.Numerics;

namespace Mnist.Baselines.Knn;

/// <summary>
/// The pruned form of <see cref="NeighbourSearch.SearchPlain"/>: the same neighbours, in the same order, with
/// bit-identical distances, computing the full distance only for references that a cheap lower bound cannot rule out.
/// </summary>
/// <remarks>
/// <para><b>Bound.</b> Rows are centred on the references' mean μ and projected onto their leading principal
/// directions W (dims × d, orthonormal): y = Wᵀ(x − μ), residual r = x − μ − W·y. Then ‖q − t‖² =
/// ‖y_q − y_t‖² + ‖r_q − r_t‖² ≥ ‖f_q − f_t‖² with f = (y, ‖r‖), a (d + 1)-vector. For each block of
/// <see cref="Block"/> queries a register-tiled kernel gives the coarse bound (31 components) to every reference; the full
/// distance of the few references with the smallest coarse bounds sets a first k-th best distance τ; the coarse
/// survivors get the fine bound (95 components) from stored rows; the fine survivors get their full distance in
/// increasing bound order, while bound − margin ≤ τ (τ shrinking as they enter). On MNIST about 1–2 % of the
/// references survive the coarse bound and a few dozen the fine one.</para>
/// <para><b>Margin.</b> Rounding (centring, projecting, residual norms, the bounds themselves), W's departure from
/// orthonormality (‖WᵀW − I‖_F, measured in double) and the rounding of the plain distance are each at most a
/// multiple of γ_n = n·u/(1 − n·u) times ‖q − μ‖² + ‖t − μ‖² or ‖q‖² + ‖t‖² (<see cref="MarginFactors"/>). A
/// reference is skipped only when its bound minus twice the sum of those still exceeds τ, so its plain distance is
/// strictly greater than τ and it could not have entered the list.</para>
/// <para><b>Same values.</b> The plain search's distance for (q, t) is the GEMM's element for that pair, which
/// depends only on the two rows and the GEMM's shape (m ≤ 256 rows never changes it): fused multiply-adds in
/// increasing k within slices of a depth fixed by the shape, slices added in order, times −2, then + ‖t‖², then
/// + ‖q‖², clamped at 0. <see cref="Exact"/> performs those operations for 8 references at once (one per vector
/// lane), so its values are the plain search's bit for bit. Building checks this on real rows and gives up
/// pruning if any value differs; a short last chunk whose GEMM shape sums differently is searched the plain way.</para>
/// <para><b>Same order.</b> The plain scan keeps the k smallest (distance, index) pairs: candidates arrive by
/// increasing index and only a strictly smaller distance enters. Here candidates arrive in any order and are
/// inserted by (distance, index), which keeps the same k pairs in the same order.</para>
/// </remarks>
internal sealed unsafe class BoundedSearch
{
    /// <summary>Queries per block: the rows of the coarse-bound kernel (12 accumulators).</summary>
    internal const int Block = 12;
    internal const int CoarseComponents = 31;
    internal const int FineComponents = 95;
    /// <summary>Rows shorter than this are searched plainly (PCA-projected models, small images): too little to prune.</summary>
    internal const int MinDimensions = 256;
    /// <summary>A search of at least this many queries builds the bounds (about as costly as a thousand plain queries).</summary>
    internal const int MinQueries = 1024;

    private const int Coarse = CoarseComponents + 1; // features: the components, then the residual norm
    private const int Fine = FineComponents + 1;
    private const int Lanes = 8;                     // references per exact evaluation (one Vector256 lane each)
    private const int DescribeRows = 128;            // rows featurised per GEMM call when building
    private const int GroupReferences = 512;         // coarse bounds per pass: 12 × 512 floats stay in L1 for the selection
    private const int FineLookahead = 8;             // survivors whose fine rows are fetched ahead
    private const int ExactLookahead = 96;           // floats (6 cache lines) fetched ahead in each row Exact reads

    private readonly NeighbourSearch _owner;
    private readonly float[] _reference;
    private readonly float[] _norms;
    private readonly int _count;
    private readonly int _dims;
    /// <summary>References [0, _pruned) are pruned; the rest (a short last chunk the GEMM sums differently) are searched plainly.</summary>
    private readonly int _pruned;
    /// <summary>The plain GEMM's k-slice depth for the pruned references.</summary>
    private readonly int _depth;
    private readonly float[] _mean;
    private readonly float[] _basis; // dims × FineComponents
    private readonly float _alpha;
    private readonly float _beta;
    /// <summary>References per vector (16 on AVX-512, 8 on AVX2); the coarse features are stored in panels of this many.</summary>
    private readonly int _lanes;
    /// <summary>_pruned rounded up to whole panels: the row stride of the coarse bounds.</summary>
    private readonly int _stride;
    private readonly float[] _coarsePanels; // per panel, Coarse rows of _lanes features (feature-major within the panel)
    private readonly float[] _coarseKey;    // ‖f_t‖² − slack_t; +∞ for the padding past _pruned
    private readonly float[] _fine;      // _pruned × Fine
    private readonly float[] _slack;     // α‖t − μ‖² + β‖t‖²: the reference's share of the margin

    private BoundedSearch(NeighbourSearch owner, int pruned, int depth, float[] mean, float[] basis, float alpha, float beta, int threads)
    {
        _owner = owner;
        _reference = owner.Reference;
        _norms = owner.Norms;
        _count = owner.Count;
        _dims = owner.Dimensions;
        _pruned = pruned;
        _depth = depth;
        _mean = mean;
        _basis = basis;
        _alpha = alpha;
        _beta = beta;
        _lanes = Gemm.DefaultIsa == GemmIsa.Avx512 ? Avx512Ops.Width : Avx2Ops.Width;
        _stride = (pruned + _lanes - 1) / _lanes * _lanes;
        _coarsePanels = new float[Coarse * (long)_stride];
        _coarseKey = new float[_stride];
        _coarseKey.AsSpan(pruned).Fill(float.PositiveInfinity);
        _fine = new float[Fine * (long)pruned];
        _slack = new float[pruned];

        int dims = _dims, lanes = _lanes;
        WorkerLoop.For((pruned + DescribeRows - 1) / DescribeRows, () => new Workspace(DescribeRows, dims), (block, w) =>
        {
            int start = block * DescribeRows, rows = Math.Min(DescribeRows, pruned - start);
            Describe(_reference.AsSpan(start * dims, rows * dims), rows, _norms.AsSpan(start, rows), w,
                w.Coarse, _fine.AsSpan(start * Fine, rows * Fine), _slack.AsSpan(start, rows));
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> f = w.Coarse.AsSpan(i * Coarse, Coarse);
                _coarseKey[start + i] = TensorPrimitives.SumOfSquares(f) - _slack[start + i];
                int j = start + i, panel = j / lanes * Coarse * lanes + j % lanes;
                for (int c = 0; c < Coarse; c++) _coarsePanels[panel + c * lanes] = f[c];
            }
        }, threads);
    }

    /// <summary>The bounds for <paramref name="owner"/>'s references, or null where pruning does not apply or cannot be exact.</summary>
    internal static BoundedSearch? TryCreate(NeighbourSearch owner, int threads)
    {
        int count = owner.Count, dims = owner.Dimensions;
        // Exact needs the fused multiply-add the GEMM uses (its scalar fallback does not fuse) and AVX's shuffles.
        if (!Avx.IsSupported || !Fma.IsSupported || Gemm.DefaultIsa == GemmIsa.Scalar) return null;
        if (dims < MinDimensions || count < 2 * NeighbourSearch.ReferenceChunk || (long)count * dims > int.MaxValue) return null;
        foreach (float norm in owner.Norms)
            if (!float.IsFinite(norm)) return null;
        int depth = PlainSliceDepth(NeighbourSearch.ReferenceChunk, dims);
        if (depth == 0) return null;
        int fullEnd = count / NeighbourSearch.ReferenceChunk * NeighbourSearch.ReferenceChunk;
        int pruned = fullEnd == count || PlainSliceDepth(count - fullEnd, dims) == depth ? count : fullEnd;

        var (mean, basis) = PrincipalBasis.Fit(owner.Reference.AsSpan(0, count * dims), count, dims, FineComponents, KnnOptions.PcaSeed, threads);
        double defect = OrthonormalityDefect(basis, dims, FineComponents);
        if (!(defect < 1e-3)) return null; // also NaN: a degenerate basis
        var (alpha, beta) = MarginFactors(dims, defect);
        var search = new BoundedSearch(owner, pruned, depth, mean, basis, alpha, beta, threads);
        return search.ReproducesPlainDistances() ? search : null;
    }

    /// <summary>References searched with bounds; the rest, a short last chunk, are searched the plain way.</summary>
    internal int PrunedCount => _pruned;

    /// <summary>Whether k is small enough next to the reference set for the first exact candidates (<see cref="InitialCandidates"/>).</summary>
    internal bool Supports(int k) => InitialCandidates(k) <= _pruned / 8;

    /// <summary>References whose full distance sets the first τ (those with the smallest coarse bounds): whole batches of <see cref="Lanes"/>.</summary>
    private static int InitialCandidates(int k) => (2 * k + 8 + Lanes - 1) / Lanes * Lanes;

    /// <summary>
    /// The k-slice depth of the plain search's GEMM for a chunk of <paramref name="width"/> references, or 0 when that
    /// shape does not sum each element as k-ordered fused multiply-adds in slices (n ≤ 16 takes the dot-product path,
    /// which sums across vector lanes) or when the depth would depend on the number of query rows.
    /// </summary>
    private static int PlainSliceDepth(int width, int dims)
    {
        if (width <= 16) return 0;
        int depth = BlockingDepth(NeighbourSearch.QueryBlock, width, dims);
        return depth == BlockingDepth(1, width, dims) ? depth : 0;
    }

    private static int BlockingDepth(int rows, int width, int dims)
    {
        var problem = new GemmProblem { M = rows, N = width, K = dims, TransB = true, Lda = dims, Ldb = dims, Ldc = width, Alpha = -2f };
        return Gemm.DefaultIsa switch
        {
            GemmIsa.Avx512 => GemmEngine<Avx512Ops, Vector512<float>>.Blocking(problem).Depth,
            GemmIsa.Avx2 => GemmEngine<Avx2Ops, Vector256<float>>.Blocking(problem).Depth,
            _ => 0,
        };
    }

    /// <summary>‖WᵀW − I‖_F in double, for the float basis as stored.</summary>
    private static double OrthonormalityDefect(float[] basis, int dims, int components)
    {
        double sum = 0;
        var column = new double[dims];
        for (int a = 0; a < components; a++)
        {
            for (int i = 0; i < dims; i++) column[i] = basis[i * components + a];
            for (int b = a; b < components; b++)
            {
                double dot = 0;
                for (int i = 0; i < dims; i++) dot += column[i] * basis[i * components + b];
                double e = dot - (a == b ? 1 : 0);
                sum += (a == b ? 1 : 2) * e * e;
            }
        }
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// α and β of the margin α·(‖q − μ‖² + ‖t − μ‖²) + β·(‖q‖² + ‖t‖²) by which a bound must exceed τ. With
    /// a = ‖q − μ‖, b = ‖t − μ‖, d components, u = 2⁻²⁴: the projection error e (centring and the GEMM, each
    /// component within γ_dims·‖x − μ‖) enters the exact identity ‖q − t‖² = ‖Δy‖² + ‖Δr‖² − ΔyᵀEΔy + 2Δy·Δe
    /// (E = WᵀW − I) as at most 4√d·γ·(a² + b²) and E as 2‖E‖_F(a² + b²); the rounded residual norms are each within
    /// (γ_dims/2 + γ_(d+1)(1 + √d) + 2u)·1.03·‖x − μ‖, which costs 4.1× that in (‖r_q‖ − ‖r_t‖)²; evaluating
    /// either bound in float costs (2.2·γ_(d+1) + 8u)(a² + b²); and the plain distance is within
    /// (2γ_dims + 6u)(‖q‖² + ‖t‖²) of the true one. Both factors are then doubled.
    /// </summary>
    internal static (float Alpha, float Beta) MarginFactors(int dims, double defect)
    {
        const double u = 1.0 / (1 << 24);
        static double Gamma(double n) => n * u / (1 - n * u);
        double d = FineComponents, root = Math.Sqrt(d);
        double projection = 4.1 * root * (Gamma(dims) + 2 * u);
        double residual = 4.1 * 1.03 * (Gamma(dims) / 2 + Gamma(d + 1) * (1 + root) + 2 * u);
        double orthonormality = 2.06 * defect + 1e-12;
        double evaluation = 2.2 * Gamma(d + 1) + 8 * u;
        double alpha = 2 * (projection + residual + orthonormality + evaluation);
        double beta = 2 * 1.01 * (2 * Gamma(dims) + 6 * u);
        return ((float)alpha, (float)beta);
    }

    /// <summary>
    /// Coarse and fine features and the margin share of <paramref name="count"/> contiguous rows: centre, project
    /// (GEMM), and the residual norms after 95 and after 31 components from explicit residual vectors (x − μ − W·y),
    /// whose rounding stays small next to ‖x − μ‖ even when the residual itself is small.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    private void Describe(ReadOnlySpan<float> rows, int count, ReadOnlySpan<float> norms, Workspace w, Span<float> coarse, Span<float> fine, Span<float> slack)
    {
        int dims = _dims;
        Span<float> centred = w.Centred.AsSpan(0, count * dims), residual = w.Residual.AsSpan(0, count * dims);
        Span<float> projected = w.Projected.AsSpan(0, count * FineComponents);
        for (int i = 0; i < count; i++) TensorPrimitives.Subtract(rows.Slice(i * dims, dims), _mean, centred.Slice(i * dims, dims));
        Gemm.Multiply(Transpose.No, Transpose.No, count, FineComponents, dims, 1f, centred, dims, _basis, FineComponents, 0f, projected, FineComponents, threads: 1);
        for (int pass = 0; pass < 2; pass++)
        {
            int components = pass == 0 ? FineComponents : CoarseComponents;
            centred.CopyTo(residual);
            Gemm.Multiply(Transpose.No, Transpose.Yes, count, dims, components, -1f, projected, FineComponents, _basis, FineComponents, 1f, residual, dims, threads: 1);
            for (int i = 0; i < count; i++)
            {
                Span<float> f = pass == 0 ? fine.Slice(i * Fine, Fine) : coarse.Slice(i * Coarse, Coarse);
                projected.Slice(i * FineComponents, components).CopyTo(f);
                f[components] = MathF.Sqrt(TensorPrimitives.SumOfSquares(residual.Slice(i * dims, dims)));
            }
        }
        for (int i = 0; i < count; i++)
            slack[i] = _alpha * TensorPrimitives.SumOfSquares(centred.Slice(i * dims, dims)) + _beta * norms[i];
    }

    /// <summary>As <see cref="NeighbourSearch.SearchPlain"/> (the caller has checked the arguments).</summary>
    internal void Search(ReadOnlySpan<float> queries, int queryCount, int k, Span<int> indices, Span<float> distances, int threads)
    {
        int blocks = (queryCount + Block - 1) / Block;
        fixed (float* queryPointer = queries)
        fixed (int* indexPointer = indices)
        fixed (float* distancePointer = distances)
        fixed (float* referencePointer = _reference)
        {
            nint queryAddress = (nint)queryPointer, indexAddress = (nint)indexPointer, distanceAddress = (nint)distancePointer;
            nint referenceAddress = (nint)referencePointer;
            int dims = _dims;
            WorkerLoop.For(blocks, () => new Scratch(this, k), (block, scratch) =>
            {
                int start = block * Block;
                int rows = Math.Min(Block, queryCount - start);
                SearchBlock((float*)queryAddress + (long)start * dims, rows, k, scratch, (float*)referenceAddress,
                    new Span<int>((int*)indexAddress + (long)start * k, rows * k), new Span<float>((float*)distanceAddress + (long)start * k, rows * k));
            }, threads);
        }
    }

    private void SearchBlock(float* queries, int rows, int k, Scratch s, float* reference, Span<int> bestIndex, Span<float> bestDistance)
    {
        int dims = _dims;
        var querySpan = new ReadOnlySpan<float>(queries, rows * dims);
        Span<float> queryNorms = s.QueryNorms.AsSpan(0, rows);
        Kernels.SquaredNorms(querySpan, dims, queryNorms);
        foreach (float norm in queryNorms)
        {
            if (!float.IsFinite(norm))
            {
                // The margin argument needs finite values; the plain search defines the answer anyway.
                _owner.SearchBlock(querySpan, rows, k, s.PlainTile ??= _owner.NewTile(), bestIndex, bestDistance);
                return;
            }
        }
        bestIndex.Fill(-1);
        bestDistance.Fill(float.PositiveInfinity);
        Span<int> filled = stackalloc int[Block];
        filled.Clear();

        Describe(querySpan, rows, queryNorms, s, s.Coarse, s.Fine, s.QuerySlack);
        // −2·f_q, feature-major (absent rows 0), for the bound kernel's broadcasts.
        s.ScaledQueries.AsSpan().Clear();
        for (int i = 0; i < rows; i++)
        {
            ReadOnlySpan<float> f = s.Coarse.AsSpan(i * Coarse, Coarse);
            s.QueryKey[i] = TensorPrimitives.SumOfSquares(f) - s.QuerySlack[i];
            for (int c = 0; c < Coarse; c++) s.ScaledQueries[c * Block + i] = -2f * f[c];
        }

        if (_pruned < _count)
        {
            // The short last chunk: the plain GEMM on the same shape gives the plain values.
            int width = _count - _pruned;
            Kernels.ScaledSquaredDistances(querySpan, queryNorms, rows, _reference.AsSpan(_pruned * dims, width * dims),
                _norms.AsSpan(_pruned, width), width, dims, 1f, s.TailTile, width, threads: 1);
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> row = s.TailTile.AsSpan(i * width, width);
                for (int j = 0; j < width; j++)
                    Insert(row[j], _pruned + j, bestDistance.Slice(i * k, k), bestIndex.Slice(i * k, k), ref filled[i]);
            }
        }

        // Coarse bounds − margin share of the references, a group at a time; while a group is in cache, each query
        // keeps its m smallest (the first candidates).
        int m = InitialCandidates(k);
        Span<int> picked = stackalloc int[Block];
        picked.Clear();
        fixed (float* panels = _coarsePanels)
        fixed (float* keys = _coarseKey)
        fixed (float* scaled = s.ScaledQueries)
        fixed (float* bounds = s.Rows)
        {
            for (int start = 0; start < _stride; start += GroupReferences)
            {
                int end = Math.Min(_stride, start + GroupReferences);
                if (_lanes == Avx512Ops.Width) CoarseBounds<Avx512Ops, Vector512<float>>(panels, keys, scaled, bounds, start, end);
                else CoarseBounds<Avx2Ops, Vector256<float>>(panels, keys, scaled, bounds, start, end);
                end = Math.Min(end, _pruned);
                for (int i = 0; i < rows; i++)
                    SelectSmallest(s.Rows.AsSpan(i * _stride + start, end - start), start,
                        s.InitialKey.AsSpan(i * m, m), s.InitialIndex.AsSpan(i * m, m), ref picked[i]);
            }
        }

        fixed (float* fine = _fine)
        {
            for (int i = 0; i < rows; i++)
                SearchQuery(queries + (long)i * dims, i, k, s, reference, fine, s.InitialIndex.AsSpan(i * m, picked[i]),
                    bestDistance.Slice(i * k, k), bestIndex.Slice(i * k, k), ref filled[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    private void SearchQuery(float* query, int i, int k, Scratch s, float* reference, float* fine, ReadOnlySpan<int> initial,
        Span<float> listDistance, Span<int> listIndex, ref int filled)
    {
        float queryNorm = s.QueryNorms[i], querySlack = s.QuerySlack[i];
        Span<float> row = s.Rows.AsSpan(i * _stride, _pruned);
        Span<float> exact = stackalloc float[Lanes];

        // 1. Full distances of the references with the smallest coarse bounds give a first τ.
        for (int b = 0; b < initial.Length; b += Lanes)
        {
            ReadOnlySpan<int> batch = initial.Slice(b, Math.Min(Lanes, initial.Length - b));
            Exact(query, queryNorm, reference, batch, initial[(b + batch.Length)..], exact);
            for (int l = 0; l < batch.Length; l++) Insert(exact[l], batch[l], listDistance, listIndex, ref filled);
        }
        foreach (int j in initial) row[j] = float.PositiveInfinity; // done: not a survivor again

        // 2. Coarse survivors: bound − margin = row[j] + key_q ≤ τ. Limits are rounded up, so rounding never prunes.
        float tau = filled == k ? listDistance[k - 1] : float.PositiveInfinity;
        int survivors = Collect(row, MathF.BitIncrement(tau - s.QueryKey[i]), s.Survivors);

        // 3. Fine bounds of the survivors; those that can still beat τ, by increasing bound.
        Span<int> candidates = s.Survivors.AsSpan(0, survivors);
        Span<float> keys = s.Keys.AsSpan(0, survivors);
        float fineLimit = MathF.BitIncrement(tau + querySlack);
        int kept = 0;
        fixed (float* queryFine = &s.Fine[i * Fine])
        {
            for (int c = 0; c < survivors; c++)
            {
                // The fine rows are scattered over tens of megabytes: fetch a few survivors ahead.
                if (c + FineLookahead < survivors && Sse.IsSupported)
                {
                    float* ahead = fine + (nint)candidates[c + FineLookahead] * Fine;
                    for (int b = 0; b < Fine; b += 16) Sse.Prefetch0(ahead + b);
                    Sse.Prefetch0(ahead + Fine - 1);
                }
                int j = candidates[c];
                float key = FineDistance(queryFine, fine + (nint)j * Fine) - _slack[j];
                if (key <= fineLimit)
                {
                    keys[kept] = key;
                    candidates[kept++] = j; // kept ≤ c: already read
                }
            }
        }
        keys[..kept].Sort(candidates[..kept]);

        // 4. Full distances, nearest bound first, while a bound can still beat the (shrinking) k-th best.
        for (int next = 0; next < kept;)
        {
            tau = filled == k ? listDistance[k - 1] : float.PositiveInfinity;
            fineLimit = MathF.BitIncrement(tau + querySlack);
            int n = 0;
            while (n < Lanes && next + n < kept && keys[next + n] <= fineLimit) n++;
            if (n == 0) break;
            ReadOnlySpan<int> batch = candidates.Slice(next, n);
            Exact(query, queryNorm, reference, batch, candidates[(next + n)..kept], exact);
            for (int l = 0; l < n; l++) Insert(exact[l], batch[l], listDistance, listIndex, ref filled);
            next += n;
        }
    }

    /// <summary>
    /// bounds[i·_stride + j] = key_j − 2·f_i·f_j for the <see cref="Block"/> query rows and references j in
    /// [from, to) (whole panels): 12 accumulators of one panel each, so every loaded feature vector feeds 12 fused
    /// multiply-adds. (Not the GEMM: reading its B in place strides across the whole feature matrix.)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    private void CoarseBounds<TOps, TVec>(float* panels, float* keys, float* scaled, float* bounds, int from, int to)
        where TOps : struct, IVectorOps<TVec>
        where TVec : struct
    {
        int w = TOps.Width;
        nint stride = _stride;
        for (int j = from; j < to; j += w)
        {
            float* panel = panels + (nint)j * Coarse;
            TVec a0 = TOps.Load(keys + j), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0, a8 = a0, a9 = a0, a10 = a0, a11 = a0;
            float* q = scaled;
            for (int c = 0; c < Coarse; c++, panel += w, q += Block)
            {
                TVec b = TOps.Load(panel);
                a0 = TOps.MultiplyAdd(TOps.Broadcast(q[0]), b, a0);
                a1 = TOps.MultiplyAdd(TOps.Broadcast(q[1]), b, a1);
                a2 = TOps.MultiplyAdd(TOps.Broadcast(q[2]), b, a2);
                a3 = TOps.MultiplyAdd(TOps.Broadcast(q[3]), b, a3);
                a4 = TOps.MultiplyAdd(TOps.Broadcast(q[4]), b, a4);
                a5 = TOps.MultiplyAdd(TOps.Broadcast(q[5]), b, a5);
                a6 = TOps.MultiplyAdd(TOps.Broadcast(q[6]), b, a6);
                a7 = TOps.MultiplyAdd(TOps.Broadcast(q[7]), b, a7);
                a8 = TOps.MultiplyAdd(TOps.Broadcast(q[8]), b, a8);
                a9 = TOps.MultiplyAdd(TOps.Broadcast(q[9]), b, a9);
                a10 = TOps.MultiplyAdd(TOps.Broadcast(q[10]), b, a10);
                a11 = TOps.MultiplyAdd(TOps.Broadcast(q[11]), b, a11);
            }
            float* o = bounds + j;
            TOps.Store(o, a0);
            TOps.Store(o + stride, a1);
            TOps.Store(o + 2 * stride, a2);
            TOps.Store(o + 3 * stride, a3);
            TOps.Store(o + 4 * stride, a4);
            TOps.Store(o + 5 * stride, a5);
            TOps.Store(o + 6 * stride, a6);
            TOps.Store(o + 7 * stride, a7);
            TOps.Store(o + 8 * stride, a8);
            TOps.Store(o + 9 * stride, a9);
            TOps.Store(o + 10 * stride, a10);
            TOps.Store(o + 11 * stride, a11);
        }
    }

    /// <summary>
    /// The plain search's distances from one query to up to 8 references: per lane, the GEMM's k-ordered fused
    /// multiply-adds in slices of <see cref="_depth"/>, each slice times −2 added to the previous ones as the GEMM's
    /// epilogue does (c = 1·c + α·acc), then + ‖t‖², + ‖q‖² and the clamp at 0 of <see cref="Kernels.ScaledSquaredDistances"/>.
    /// The rows are read 8 floats at a time and transposed in registers (lane l = reference l), so each row streams
    /// sequentially from memory.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    private void Exact(float* query, float queryNorm, float* reference, ReadOnlySpan<int> candidates, ReadOnlySpan<int> next, Span<float> result)
    {
        int dims = _dims, depth = _depth;
        float* norms = stackalloc float[Lanes];
        float* block = stackalloc float[Lanes * Lanes];
        float** rows = stackalloc float*[Lanes];
        float** following = stackalloc float*[Lanes];
        for (int l = 0; l < Lanes; l++) following[l] = l < next.Length ? reference + (nint)next[l] * dims : null;
        for (int l = 0; l < Lanes; l++)
        {
            int c = candidates[l < candidates.Length ? l : 0]; // spare lanes repeat the first reference
            rows[l] = reference + (nint)c * dims;
            norms[l] = _norms[c];
            for (int p = 0; p < ExactLookahead; p += 16) Sse.Prefetch0(rows[l] + p);
        }
        float* r0 = rows[0], r1 = rows[1], r2 = rows[2], r3 = rows[3], r4 = rows[4], r5 = rows[5], r6 = rows[6], r7 = rows[7];
        Vector256<float> minusTwo = Vector256.Create(-2f), sum = Vector256<float>.Zero, acc = Vector256<float>.Zero;
        int sliceEnd = Math.Min(depth, dims);
        bool firstSlice = true;
        for (int p = 0; p < dims; p += Lanes)
        {
            if ((p & 15) == 0)
            {
                // The rows are scattered over the reference set and mostly not cached: fetch ahead.
                Sse.Prefetch0(r0 + p + ExactLookahead); Sse.Prefetch0(r1 + p + ExactLookahead);
                Sse.Prefetch0(r2 + p + ExactLookahead); Sse.Prefetch0(r3 + p + ExactLookahead);
                Sse.Prefetch0(r4 + p + ExactLookahead); Sse.Prefetch0(r5 + p + ExactLookahead);
                Sse.Prefetch0(r6 + p + ExactLookahead); Sse.Prefetch0(r7 + p + ExactLookahead);
            }
            // Meanwhile the next batch's rows come into L2: half the rows' line p/16 per 8 floats here.
            for (int l = (p >> 3 & 1) * 4, last = l + 4; l < last; l++)
                if (following[l] != null) Sse.Prefetch1(following[l] + (p >> 4 << 4));
            int steps = Math.Min(Lanes, dims - p);
            if (steps == Lanes) RegisterTranspose.Transpose8x8(r0 + p, r1 + p, r2 + p, r3 + p, r4 + p, r5 + p, r6 + p, r7 + p, block, Lanes);
            else
                for (int e = 0; e < steps; e++)
                    for (int l = 0; l < Lanes; l++) block[e * Lanes + l] = rows[l][p + e];
            for (int e = 0; e < steps; e++)
            {
                acc = Fma.MultiplyAdd(Vector256.Create(query[p + e]), Vector256.Load(block + e * Lanes), acc);
                if (p + e + 1 == sliceEnd)
                {
                    Vector256<float> scaled = acc * minusTwo;
                    sum = firstSlice ? scaled : Fma.MultiplyAdd(sum, Vector256<float>.One, scaled);
                    firstSlice = false;
                    acc = Vector256<float>.Zero;
                    sliceEnd = Math.Min(dims, sliceEnd + depth);
                }
            }
        }
        Vector256<float> distance = Vector256.Max((sum + Vector256.Load(norms)) + Vector256.Create(queryNorm), Vector256<float>.Zero);
        for (int l = 0; l < candidates.Length; l++) result[l] = distance[l];
    }

    /// <summary>Inserts into a k-best list ordered by (distance, index), whatever order candidates arrive in.</summary>
    private static void Insert(float distance, int index, Span<float> listDistance, Span<int> listIndex, ref int filled)
    {
        int k = listDistance.Length;
        if (filled == k && !Before(distance, index, listDistance[k - 1], listIndex[k - 1])) return;
        int position = filled < k ? filled++ : k - 1;
        while (position > 0 && Before(distance, index, listDistance[position - 1], listIndex[position - 1]))
        {
            listDistance[position] = listDistance[position - 1];
            listIndex[position] = listIndex[position - 1];
            position--;
        }
        listDistance[position] = distance;
        listIndex[position] = index;
    }

    private static bool Before(float distance, int index, float otherDistance, int otherIndex) =>
        distance < otherDistance || (distance == otherDistance && index < otherIndex);

    /// <summary>Merges row[j] (reference offset + j) into the sorted list of the bestKey.Length smallest (any order among ties).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    private static void SelectSmallest(ReadOnlySpan<float> row, int offset, Span<float> bestKey, Span<int> bestIndex, ref int filled)
    {
        int m = bestKey.Length, j = 0, n = row.Length;
        for (; j < n && filled < m; j++) NeighbourSearch.Insert(row[j], offset + j, bestKey, bestIndex, ref filled);
        ref float r = ref MemoryMarshal.GetReference(row);
        if (Vector512.IsHardwareAccelerated)
        {
            for (; j + Vector512<float>.Count <= n; j += Vector512<float>.Count)
            {
                ulong mask = Vector512.LessThan(Vector512.LoadUnsafe(ref r, (nuint)j), Vector512.Create(bestKey[m - 1])).ExtractMostSignificantBits();
                for (; mask != 0; mask &= mask - 1)
                {
                    int lane = j + BitOperations.TrailingZeroCount(mask);
                    NeighbourSearch.Insert(row[lane], offset + lane, bestKey, bestIndex, ref filled);
                }
            }
        }
        for (; j + Vector256<float>.Count <= n; j += Vector256<float>.Count)
        {
            uint mask = Vector256.LessThan(Vector256.LoadUnsafe(ref r, (nuint)j), Vector256.Create(bestKey[m - 1])).ExtractMostSignificantBits();
            for (; mask != 0; mask &= mask - 1)
            {
                int lane = j + BitOperations.TrailingZeroCount(mask);
                NeighbourSearch.Insert(row[lane], offset + lane, bestKey, bestIndex, ref filled);
            }
        }
        for (; j < n; j++) NeighbourSearch.Insert(row[j], offset + j, bestKey, bestIndex, ref filled);
    }


    /// <summary>The indices j with row[j] ≤ limit, in increasing order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    private static int Collect(ReadOnlySpan<float> row, float limit, Span<int> survivors)
    {
        int count = 0, j = 0, n = row.Length;
        ref float r = ref MemoryMarshal.GetReference(row);
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> bound = Vector512.Create(limit);
            for (; j + Vector512<float>.Count <= n; j += Vector512<float>.Count)
            {
                ulong mask = Vector512.LessThanOrEqual(Vector512.LoadUnsafe(ref r, (nuint)j), bound).ExtractMostSignificantBits();
                for (; mask != 0; mask &= mask - 1) survivors[count++] = j + BitOperations.TrailingZeroCount(mask);
            }
        }
        Vector256<float> bound256 = Vector256.Create(limit);
        for (; j + Vector256<float>.Count <= n; j += Vector256<float>.Count)
        {
            uint mask = Vector256.LessThanOrEqual(Vector256.LoadUnsafe(ref r, (nuint)j), bound256).ExtractMostSignificantBits();
            for (; mask != 0; mask &= mask - 1) survivors[count++] = j + BitOperations.TrailingZeroCount(mask);
        }
        for (; j < n; j++)
            if (row[j] <= limit) survivors[count++] = j;
        return count;
    }

    /// <summary>‖a − b‖² of two fine feature rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot from the first call: skip tier-0 code
    private static float FineDistance(float* a, float* b)
    {
        Vector256<float> s0 = Vector256<float>.Zero, s1 = Vector256<float>.Zero;
        for (int p = 0; p < Fine; p += 16)
        {
            Vector256<float> d0 = Vector256.Load(a + p) - Vector256.Load(b + p);
            Vector256<float> d1 = Vector256.Load(a + p + 8) - Vector256.Load(b + p + 8);
            s0 = Fma.MultiplyAdd(d0, d0, s0);
            s1 = Fma.MultiplyAdd(d1, d1, s1);
        }
        return Vector256.Sum(s0 + s1);
    }

    /// <summary>
    /// Whether <see cref="Exact"/> gives the plain search's values bit for bit, on a few reference rows used as
    /// queries against the first and the last pruned chunk: a guard against GEMM changes this class would not know about.
    /// </summary>
    private bool ReproducesPlainDistances()
    {
        const int rows = 6;
        int dims = _dims;
        var queries = new float[rows * dims];
        var queryNorms = new float[rows];
        for (int i = 0; i < rows; i++)
            _reference.AsSpan((int)((long)_count * (2 * i + 1) / (2 * rows)) * dims, dims).CopyTo(queries.AsSpan(i * dims));
        Kernels.SquaredNorms(queries, dims, queryNorms);
        Span<float> exact = stackalloc float[Lanes];
        Span<int> batch = stackalloc int[Lanes];
        fixed (float* query = queries)
        fixed (float* reference = _reference)
        {
            foreach (int start in new[] { 0, (_pruned - 1) / NeighbourSearch.ReferenceChunk * NeighbourSearch.ReferenceChunk })
            {
                int width = Math.Min(NeighbourSearch.ReferenceChunk, _pruned - start);
                var plain = new float[rows * width];
                Kernels.ScaledSquaredDistances(queries, queryNorms, rows, _reference.AsSpan(start * dims, width * dims),
                    _norms.AsSpan(start, width), width, dims, 1f, plain, width, threads: 1);
                for (int i = 0; i < rows; i++)
                {
                    for (int j = 0; j < width; j += Lanes)
                    {
                        int n = Math.Min(Lanes, width - j);
                        for (int l = 0; l < n; l++) batch[l] = start + j + l;
                        Exact(query + i * dims, queryNorms[i], reference, batch[..n], [], exact);
                        for (int l = 0; l < n; l++)
                            if (BitConverter.SingleToInt32Bits(exact[l]) != BitConverter.SingleToInt32Bits(plain[i * width + j + l])) return false;
                    }
                }
            }
        }
        return true;
    }

    /// <summary>Per-worker buffers of <see cref="Describe"/>.</summary>
    private class Workspace(int rows, int dims)
    {
        public readonly float[] Centred = new float[rows * dims];
        public readonly float[] Residual = new float[rows * dims];
        public readonly float[] Projected = new float[rows * FineComponents];
        public readonly float[] Coarse = new float[rows * BoundedSearch.Coarse];
    }

    /// <summary>Per-worker buffers of a search: one query block's features and coarse bounds, one query's candidates.</summary>
    private sealed class Scratch(BoundedSearch owner, int k) : Workspace(Block, owner._dims)
    {
        public readonly float[] Fine = new float[Block * BoundedSearch.Fine];
        public readonly float[] QueryNorms = new float[Block];
        public readonly float[] QuerySlack = new float[Block];
        public readonly float[] QueryKey = new float[Block];
        public readonly float[] ScaledQueries = new float[BoundedSearch.Coarse * Block];
        public readonly float[] Rows = new float[Block * (long)owner._stride];
        public readonly float[] TailTile = new float[Block * (owner._count - owner._pruned)];
        public readonly float[] InitialKey = new float[Block * InitialCandidates(k)];
        public readonly int[] InitialIndex = new int[Block * InitialCandidates(k)];
        public readonly int[] Survivors = new int[owner._pruned];
        public readonly float[] Keys = new float[owner._pruned];
        public float[]? PlainTile;
    }
}
