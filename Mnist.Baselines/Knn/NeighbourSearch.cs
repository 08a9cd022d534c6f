using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Mnist.Core.Numerics;

namespace Mnist.Baselines.Knn;

/// <summary>
/// Exact k-nearest-neighbour search by squared Euclidean distance over a fixed reference set (row-major
/// n × dims floats), computed as ‖q‖² + ‖t‖² − 2·q·t with one GEMM per (query block × reference chunk), clamped
/// at 0. Memory stays bounded: each worker holds one <see cref="QueryBlock"/> × <see cref="ReferenceChunk"/>
/// distance tile plus the k-best lists of its block.
/// </summary>
/// <remarks>
/// <para>Per query the k best are kept in a sorted insertion list; candidates are scanned in increasing reference index
/// and only a strictly smaller distance enters, so at equal distance the smaller reference index ranks first.
/// Query blocks run in parallel (bounded by <see cref="ComputeSettings"/>), each GEMM on one thread; every value
/// depends only on the data (the GEMM is deterministic and its shapes do not depend on the thread count), so
/// results are identical for any thread count.</para>
/// <para>That plain sweep (<see cref="SearchPlain"/>) is the definition. For large raw-pixel reference sets
/// <see cref="Search"/> prunes it with projection lower bounds (<see cref="BoundedSearch"/>, built on the first
/// large search) and returns the same indices and bit-identical distances.</para>
/// </remarks>
internal sealed class NeighbourSearch
{
    internal const int QueryBlock = 256;
    internal const int ReferenceChunk = 2048;

    private readonly float[] _reference;
    private readonly float[] _norms;
    private readonly int _count;
    private readonly int _dims;
    private readonly Lock _boundsGate = new();
    private BoundedSearch? _bounds;
    private bool _boundsTried;

    public NeighbourSearch(float[] reference, int count, int dims)
    {
        if (reference.Length < (long)count * dims) throw new ArgumentException("reference is smaller than count × dims.", nameof(reference));
        _reference = reference;
        _count = count;
        _dims = dims;
        _norms = Kernels.SquaredNorms(reference, count, dims);
    }

    public int Count => _count;
    public int Dimensions => _dims;
    internal float[] Reference => _reference;
    /// <summary>‖t‖² of every reference row, as the plain search adds them.</summary>
    internal float[] Norms => _norms;

    /// <summary>Whether searches prune with projection bounds (after <see cref="PrepareBounds"/> or a large search).</summary>
    internal bool HasBounds => _bounds is not null;

    /// <summary>The pruning bounds once built, for tests.</summary>
    internal BoundedSearch? Bounds => _bounds;

    /// <summary>
    /// Builds the pruning bounds now if they apply (raw-pixel-sized rows, at least two reference chunks, a CPU whose
    /// GEMM fuses its multiply-adds: AVX2 + FMA or AVX-512); returns whether searches can use them (for k not too
    /// large, <see cref="BoundedSearch.Supports"/>). <see cref="Search"/> calls it for large query sets.
    /// </summary>
    internal bool PrepareBounds(int threads = 0)
    {
        lock (_boundsGate)
        {
            if (!_boundsTried)
            {
                _bounds = BoundedSearch.TryCreate(this, threads);
                _boundsTried = true;
            }
            return _bounds is not null;
        }
    }

    /// <summary>
    /// For each of the <paramref name="queryCount"/> contiguous query rows, the indices and squared distances of
    /// its min(k, Count) nearest reference rows, nearest first (row-major queryCount × k; unused slots −1 / +∞).
    /// </summary>
    public void Search(ReadOnlySpan<float> queries, int queryCount, int k, Span<int> indices, Span<float> distances, int threads = 0)
    {
        Check(queries, queryCount, k, indices, distances);
        if (queryCount == 0) return;
        // Building the bounds costs about as much as a thousand plain queries.
        if (queryCount >= BoundedSearch.MinQueries && !_boundsTried) PrepareBounds(threads);
        var bounds = _bounds;
        if (bounds is not null && bounds.Supports(k)) bounds.Search(queries, queryCount, k, indices, distances, threads);
        else SearchPlain(queries, queryCount, k, indices, distances, threads);
    }

    /// <summary>
    /// <see cref="Search"/> without pruning: every query against every reference row. The definition the pruned
    /// search reproduces, and the path for small or low-dimensional reference sets.
    /// </summary>
    internal unsafe void SearchPlain(ReadOnlySpan<float> queries, int queryCount, int k, Span<int> indices, Span<float> distances, int threads = 0)
    {
        Check(queries, queryCount, k, indices, distances);
        if (queryCount == 0) return;
        int blocks = (queryCount + QueryBlock - 1) / QueryBlock;
        // The workers' lambda cannot capture spans: it gets the pinned addresses instead of copies of the queries
        // (tens of megabytes for a large view) and of the outputs.
        fixed (float* queryPointer = queries)
        fixed (int* indexPointer = indices)
        fixed (float* distancePointer = distances)
        {
            nint queryAddress = (nint)queryPointer, indexAddress = (nint)indexPointer, distanceAddress = (nint)distancePointer;
            int dims = _dims;
            WorkerLoop.For(blocks,
                NewTile,
                (block, tile) =>
                {
                    int start = block * QueryBlock;
                    int rows = Math.Min(QueryBlock, queryCount - start);
                    SearchBlock(new ReadOnlySpan<float>((float*)queryAddress + (long)start * dims, rows * dims), rows, k, tile,
                        new Span<int>((int*)indexAddress + (long)start * k, rows * k), new Span<float>((float*)distanceAddress + (long)start * k, rows * k));
                }, threads);
        }
    }

    /// <summary>The plain search's distance tile for one worker.</summary>
    internal float[] NewTile() => new float[QueryBlock * Math.Min(ReferenceChunk, Math.Max(_count, 1))];

    private void Check(ReadOnlySpan<float> queries, int queryCount, int k, Span<int> indices, Span<float> distances)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        if (queries.Length < (long)queryCount * _dims) throw new ArgumentException("queries is smaller than queryCount × dims.", nameof(queries));
        if (indices.Length < (long)queryCount * k || distances.Length < (long)queryCount * k)
            throw new ArgumentException("The output buffers are smaller than queryCount × k.");
    }

    /// <summary>The plain search of up to <see cref="QueryBlock"/> contiguous queries.</summary>
    internal void SearchBlock(ReadOnlySpan<float> queries, int rows, int k, float[] tile, Span<int> bestIndex, Span<float> bestDistance)
    {
        bestIndex.Fill(-1);
        bestDistance.Fill(float.PositiveInfinity);
        Span<float> queryNorms = stackalloc float[rows];
        Span<int> filled = stackalloc int[rows];
        filled.Clear();
        Kernels.SquaredNorms(queries, _dims, queryNorms);

        for (int chunkStart = 0; chunkStart < _count; chunkStart += ReferenceChunk)
        {
            int width = Math.Min(ReferenceChunk, _count - chunkStart);
            Kernels.ScaledSquaredDistances(queries, queryNorms, rows, _reference.AsSpan(chunkStart * _dims, width * _dims),
                _norms.AsSpan(chunkStart, width), width, _dims, 1f, tile, width, threads: 1);
            for (int i = 0; i < rows; i++)
            {
                ReadOnlySpan<float> row = tile.AsSpan(i * width, width);
                Span<float> listDistance = bestDistance.Slice(i * k, k);
                Span<int> listIndex = bestIndex.Slice(i * k, k);
                filled[i] = Scan(row, chunkStart, listDistance, listIndex, filled[i]);
            }
        }
    }

    /// <summary>Merges one row of candidate distances (reference indices offset, offset + 1, …) into a sorted k-best list.</summary>
    internal static int Scan(ReadOnlySpan<float> row, int offset, Span<float> listDistance, Span<int> listIndex, int filled)
    {
        int k = listDistance.Length;
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            int vectorEnd = row.Length - Vector256<float>.Count;
            while (j <= vectorEnd && filled == k)
            {
                // Skip 8 candidates at once when none beats the current k-th best.
                var threshold = Vector256.Create(listDistance[k - 1]);
                var v = Vector256.Create<float>(row.Slice(j, Vector256<float>.Count));
                uint mask = Vector256.LessThan(v, threshold).ExtractMostSignificantBits();
                while (mask != 0)
                {
                    int lane = System.Numerics.BitOperations.TrailingZeroCount(mask);
                    mask &= mask - 1;
                    Insert(row[j + lane], offset + j + lane, listDistance, listIndex, ref filled);
                }
                j += Vector256<float>.Count;
            }
        }
        for (; j < row.Length; j++)
        {
            float d = row[j];
            if (filled < k || d < listDistance[k - 1]) Insert(d, offset + j, listDistance, listIndex, ref filled);
        }
        return filled;
    }

    /// <summary>Inserts (distance, index) into a sorted k-best list unless it does not beat the k-th; an equal distance goes after.</summary>
    internal static void Insert(float distance, int index, Span<float> listDistance, Span<int> listIndex, ref int filled)
    {
        int k = listDistance.Length;
        // Re-check: an earlier insertion from the same vector may have lowered the threshold.
        if (filled == k && !(distance < listDistance[k - 1])) return;
        int position = filled < k ? filled++ : k - 1;
        // Strictly greater entries move down, so an equal distance (smaller index, seen earlier) stays ahead.
        while (position > 0 && listDistance[position - 1] > distance)
        {
            listDistance[position] = listDistance[position - 1];
            listIndex[position] = listIndex[position - 1];
            position--;
        }
        listDistance[position] = distance;
        listIndex[position] = index;
    }
}
