using Mnist.Baselines.Knn;
using Mnist.Core.Data;

namespace Mnist.Tests.Baselines.Knn;

/// <summary>
/// The pruned search (<see cref="BoundedSearch"/>) against the plain sweep it must reproduce: the same indices in the
/// same order and bit-identical distances, on real MNIST rows with exact duplicates (ties), for several reference
/// counts (the short last chunk's GEMM shape decides how it is searched) and thread counts.
/// </summary>
[TestFixture]
public sealed class NeighbourSearchTests
{
    private const int Pixels = 784;

    /// <summary>
    /// 8192 training images, then <paramref name="duplicates"/> exact copies of some of them (ties at every distance
    /// to those rows; index order decides); queries: 600 test images, 60 duplicated training images (distance 0 to
    /// two or more rows) and 60 other training images (distance 0 to one row).
    /// </summary>
    private static (float[] Reference, int Count, float[] Queries, int QueryCount) MnistWithDuplicates(int duplicates)
    {
        var train = TestData.Mnist.Train;
        var test = TestData.Mnist.Test!;
        const int baseCount = 4 * NeighbourSearch.ReferenceChunk;
        int count = baseCount + duplicates;
        var reference = new float[count * Pixels];
        train.CopyPixels(0, baseCount, reference);
        for (int d = 0; d < duplicates; d++)
            train.GetImage(d * 37 % baseCount).CopyTo(reference.AsSpan((baseCount + d) * Pixels, Pixels));

        const int testQueries = 600, duplicatedQueries = 60, trainQueries = 60;
        int queryCount = testQueries + duplicatedQueries + trainQueries;
        var queries = new float[queryCount * Pixels];
        test.CopyPixels(0, testQueries, queries);
        for (int i = 0; i < duplicatedQueries; i++)
            train.GetImage(Math.Min(i, Math.Max(duplicates - 1, 0)) * 37 % baseCount).CopyTo(queries.AsSpan((testQueries + i) * Pixels, Pixels));
        for (int i = 0; i < trainQueries; i++)
            train.GetImage(101 + 131 * i).CopyTo(queries.AsSpan((testQueries + duplicatedQueries + i) * Pixels, Pixels));
        return (reference, count, queries, queryCount);
    }

    private static (int[] Indices, float[] Distances) Plain(NeighbourSearch search, float[] queries, int queryCount, int k)
    {
        var indices = new int[queryCount * k];
        var distances = new float[queryCount * k];
        search.SearchPlain(queries, queryCount, k, indices, distances);
        return (indices, distances);
    }

    private static (int[] Indices, float[] Distances) Searched(NeighbourSearch search, float[] queries, int queryCount, int k, int threads = 0)
    {
        var indices = new int[queryCount * k];
        var distances = new float[queryCount * k];
        search.Search(queries, queryCount, k, indices, distances, threads);
        return (indices, distances);
    }

    private static void AssertIdentical((int[] Indices, float[] Distances) actual, (int[] Indices, float[] Distances) expected, string what)
    {
        Assert.That(actual.Indices, Is.EqualTo(expected.Indices).AsCollection, $"{what}: indices");
        Assert.That(actual.Distances.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Distances.Select(BitConverter.SingleToInt32Bits)).AsCollection,
            $"{what}: distance bits");
    }

    // Tails after 4 whole chunks: none; ≤ 16 rows (the GEMM's dot-product path: searched plainly); 60 rows (another
    // slice depth: searched plainly); 700 rows (the same arithmetic as a whole chunk: pruned).
    [TestCase(1, 10)]
    [TestCase(3, 0)]
    [TestCase(3, 60)]
    [TestCase(10, 700)]
    public void PrunedSearchReturnsThePlainNeighboursOnMnistWithDuplicates(int k, int duplicates)
    {
        var (reference, count, queries, queryCount) = MnistWithDuplicates(duplicates);
        var search = new NeighbourSearch(reference, count, Pixels);
        var plain = Plain(search, queries, queryCount, k);

        Assert.That(search.PrepareBounds(), Is.True, "raw MNIST rows are pruned");
        Assert.That(search.Bounds!.Supports(k), Is.True);
        int wholeChunks = 4 * NeighbourSearch.ReferenceChunk;
        Assert.That(search.Bounds.PrunedCount, Is.EqualTo(duplicates is 0 or 700 ? count : wholeChunks), "which tail is pruned");
        AssertIdentical(Searched(search, queries, queryCount, k), plain, $"k = {k}, {count} references");

        // The duplicated queries really tie: the original and its copies at distance 0, the original first.
        if (duplicates > 0)
        {
            int q = 600;
            Assert.That(plain.Distances[q * k], Is.Zero);
            Assert.That(plain.Indices[q * k], Is.EqualTo(0));
            if (k > 1) Assert.That(plain.Indices[q * k + 1], Is.EqualTo(4 * NeighbourSearch.ReferenceChunk));
        }
    }

    [Test]
    public void PrunedResultsDoNotDependOnTheThreadCount()
    {
        var (reference, count, queries, queryCount) = MnistWithDuplicates(60);
        var search = new NeighbourSearch(reference, count, Pixels);
        Assert.That(search.PrepareBounds(threads: 1), Is.True);
        var one = Searched(search, queries, queryCount, 3, threads: 1);
        AssertIdentical(Searched(search, queries, queryCount, 3, threads: 2), one, "2 threads vs 1");
        AssertIdentical(Searched(search, queries, queryCount, 3, threads: 3), one, "3 threads vs 1");
        AssertIdentical(one, Plain(search, queries, queryCount, 3), "pruned vs plain");
    }

    [Test]
    public void ALargeSearchBuildsTheBoundsItself()
    {
        var (reference, count, queries, queryCount) = MnistWithDuplicates(0);
        var search = new NeighbourSearch(reference, count, Pixels);
        var plain = Plain(search, queries, queryCount, 3);
        Searched(search, queries, 100, 3);
        Assert.That(search.HasBounds, Is.False, "a small search stays plain");

        // The model searches its queries in one call per 8192: 1500 queries are enough to build the bounds.
        int large = BoundedSearch.MinQueries + 100;
        var many = new float[large * Pixels];
        for (int i = 0; i < large; i++) queries.AsSpan(i % queryCount * Pixels, Pixels).CopyTo(many.AsSpan(i * Pixels));
        var result = Searched(search, many, large, 3);
        Assert.That(search.HasBounds, Is.True);
        AssertIdentical((result.Indices[..(queryCount * 3)], result.Distances[..(queryCount * 3)]), plain, "built by the search");
    }

    /// <summary>Random multiples of 1/4 in <paramref name="dims"/> dimensions: many exactly equal distances.</summary>
    private static float[] Quarters(int count, int dims, int seed)
    {
        var random = new Random(seed);
        var values = new float[count * dims];
        for (int i = 0; i < values.Length; i++) values[i] = random.Next(5) / 4f;
        return values;
    }

    [TestCase(300, 1)]
    [TestCase(300, 4)]
    public void PrunedSearchKeepsTheTieOrderOnCoarselyQuantisedData(int dims, int k)
    {
        const int count = 5000, queryCount = 400;
        var reference = Quarters(count, dims, seed: 1);
        // Every 10th reference repeats an earlier one; some queries are references, some are nearly (one value changed).
        for (int i = 10; i < count; i += 10) reference.AsSpan((i / 10 - 1) * dims, dims).CopyTo(reference.AsSpan(i * dims, dims));
        var queries = Quarters(queryCount, dims, seed: 2);
        for (int i = 0; i < 100; i++) reference.AsSpan(i * 7 * dims, dims).CopyTo(queries.AsSpan(i * dims, dims));
        for (int i = 100; i < 200; i++)
        {
            reference.AsSpan(i * 3 * dims, dims).CopyTo(queries.AsSpan(i * dims, dims));
            queries[i * dims + i % dims] = 1f - queries[i * dims + i % dims];
        }

        var search = new NeighbourSearch(reference, count, dims);
        var plain = Plain(search, queries, queryCount, k);
        Assert.That(search.PrepareBounds(), Is.True);
        Assert.That(search.Bounds!.Supports(k), Is.True);
        AssertIdentical(Searched(search, queries, queryCount, k), plain, $"quarters, {dims} dims, k = {k}");
    }

    [Test]
    public void NonFiniteQueriesGetThePlainAnswer()
    {
        var (reference, count, queries, queryCount) = MnistWithDuplicates(0);
        queries[5 * Pixels + 300] = float.NaN;
        queries[17 * Pixels + 20] = float.PositiveInfinity;
        var search = new NeighbourSearch(reference, count, Pixels);
        var plain = Plain(search, queries, queryCount, 3);
        Assert.That(search.PrepareBounds(), Is.True);
        AssertIdentical(Searched(search, queries, queryCount, 3), plain, "NaN and ∞ queries");
    }

    // Rows shorter than the projections (PCA-projected models, small images), too few references, a k too large for
    // the reference set: the plain search.
    [TestCase(50, 6000, 3)]
    [TestCase(BoundedSearch.MinDimensions - 1, 6000, 3)]
    [TestCase(300, 2 * NeighbourSearch.ReferenceChunk - 1, 3)]
    [TestCase(300, 6000, 400)]
    public void SmallProblemsAreSearchedPlainly(int dims, int count, int k)
    {
        var reference = Quarters(count, dims, seed: 3);
        var queries = Quarters(50, dims, seed: 4);
        var search = new NeighbourSearch(reference, count, dims);
        var plain = Plain(search, queries, 50, k);
        bool prepared = search.PrepareBounds();
        Assert.That(prepared, Is.EqualTo(dims >= BoundedSearch.MinDimensions && count >= 2 * NeighbourSearch.ReferenceChunk));
        Assert.That(search.Bounds?.Supports(k) ?? false, Is.False, "searched plainly");
        AssertIdentical(Searched(search, queries, 50, k), plain, $"{dims} dims, {count} references, k = {k}");
    }
}
