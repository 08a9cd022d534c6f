using Mnist.Core.Numerics;

namespace Mnist.Tests.Numerics;

/// <summary>Winograd F(4×4, 5×5) and F(4×4, 3×3): their matrices exactly, and their three products against the direct loops of <see cref="ReferenceConvolution"/>.</summary>
internal class WinogradTests
{
    private const int Batch = 3;

    /// <summary>Winograd's error is normwise: up to 1e-6 of the largest |terms| sum on top of the elementwise 1e-4.</summary>
    private const double Normwise = 1e-6;

    // Supported shapes: the cnn's conv2, conv3 and conv4; more filters than channels; sizes that are not whole tiles
    // (the last tiles hang over the edge); a 2×2 image, smaller than one tile.
    private static readonly int[][] Shapes =
    [
        [28, 28, 32, 5, 2, 28, 28, 32],
        [14, 14, 32, 3, 1, 14, 14, 64],
        [14, 14, 64, 3, 1, 14, 14, 64],
        [6, 10, 16, 5, 2, 6, 10, 48],
        [7, 5, 16, 5, 2, 7, 5, 32],
        [5, 7, 32, 3, 1, 5, 7, 16],
        [2, 2, 16, 5, 2, 2, 2, 16],
        [2, 2, 16, 3, 1, 2, 2, 16],
    ];

    private static IEnumerable<TestCaseData> Cases() => ConvolutionTests.CasesOf(Shapes);

    /// <summary>Bᵀ (α × α) as the code applies it: column l is the transform of the unit vector e_l.</summary>
    private static unsafe double[,] InputMatrix<TTile>() where TTile : struct, IWinogradTile
    {
        int side = TTile.Side;
        var bt = new double[side, side];
        float* d = stackalloc float[side], t = stackalloc float[side];
        for (int l = 0; l < side; l++)
        {
            for (int k = 0; k < side; k++) d[k] = k == l ? 1f : 0f;
            TTile.InputLine<ScalarOps, float>(d, 1, t, 1);
            for (int j = 0; j < side; j++) bt[j, l] = t[j];
        }
        return bt;
    }

    /// <summary>Aᵀ (m × α) as the output transform applies it.</summary>
    private static unsafe double[,] OutputMatrix<TTile>() where TTile : struct, IWinogradTile
    {
        int side = TTile.Side, m = WinogradConvolution.OutputTile;
        var at = new double[m, side];
        float* v = stackalloc float[side], y = stackalloc float[m];
        for (int j = 0; j < side; j++)
        {
            for (int k = 0; k < side; k++) v[k] = k == j ? 1f : 0f;
            TTile.OutputLine<ScalarOps, float>(v, 1, y, 1);
            for (int i = 0; i < m; i++) at[i, j] = y[i];
        }
        return at;
    }

    /// <summary>A (α × m) as the output-gradient transform applies it.</summary>
    private static unsafe double[,] GradientMatrix<TTile>() where TTile : struct, IWinogradTile
    {
        int side = TTile.Side, m = WinogradConvolution.OutputTile;
        var a = new double[side, m];
        float* y = stackalloc float[m], v = stackalloc float[side];
        for (int i = 0; i < m; i++)
        {
            for (int k = 0; k < m; k++) y[k] = k == i ? 1f : 0f;
            TTile.GradientLine<ScalarOps, float>(y, 1, v, 1);
            for (int j = 0; j < side; j++) a[j, i] = v[j];
        }
        return a;
    }

    private static void AssertExactCorrelation<TTile>(int kernel) where TTile : struct, IWinogradTile
    {
        // y_i = Σ_k d_{i+k}·g_k for all d, g  ⇔  Σ_j Aᵀ[i,j]·G[j,k]·Bᵀ[j,l] = [l = i + k] for every i < m, k < r, l < α.
        int m = WinogradConvolution.OutputTile, side = TTile.Side;
        Assert.That(WinogradConvolution.TileSide(kernel), Is.EqualTo(side));
        Assert.That(m + kernel - 1, Is.EqualTo(side));
        var bt = InputMatrix<TTile>();
        var at = OutputMatrix<TTile>();
        var g = WinogradConvolution.G(kernel);
        Assert.That(g.Length, Is.EqualTo(side * kernel));
        for (int i = 0; i < m; i++)
            for (int k = 0; k < kernel; k++)
                for (int l = 0; l < side; l++)
                {
                    double sum = 0;
                    for (int j = 0; j < side; j++) sum += at[i, j] * g[j * kernel + k] * bt[j, l];
                    Assert.That(sum, Is.EqualTo(l == i + k ? 1.0 : 0.0).Within(1e-12), $"i={i} k={k} l={l}");
                }
    }

    private static void AssertGradientIsOutputTransposed<TTile>() where TTile : struct, IWinogradTile
    {
        var at = OutputMatrix<TTile>();
        var a = GradientMatrix<TTile>();
        for (int i = 0; i < WinogradConvolution.OutputTile; i++)
            for (int j = 0; j < TTile.Side; j++)
                Assert.That(a[j, i], Is.EqualTo(at[i, j]), $"A[{j},{i}]");
    }

    [Test]
    public void TheTransformsComputeTheOneDimensionalCorrelationExactly()
    {
        AssertExactCorrelation<Tile8>(5);
        AssertExactCorrelation<Tile6>(3);
    }

    [Test]
    public void TheGradientTransformIsTheOutputTransformTransposed()
    {
        AssertGradientIsOutputTransposed<Tile8>();
        AssertGradientIsOutputTransposed<Tile6>();
    }

    [TestCaseSource(nameof(Cases))]
    public void ForwardMatchesTheReference(ConvolutionShape shape)
    {
        Assert.That(WinogradConvolution.Supports(shape), Is.True);
        var random = new Random(shape.GetHashCode() + 10);
        var images = ConvolutionTests.RandomArray(random, Batch * shape.InputSize);
        var weights = ConvolutionTests.RandomArray(random, shape.Taps * shape.Filters);
        var bias = ConvolutionTests.RandomArray(random, shape.Filters);
        var want = new float[Batch * shape.OutputSize];
        var bound = new float[want.Length];
        ReferenceConvolution.Forward(shape, images, Batch, weights, bias, want);
        ReferenceConvolution.Forward(shape, TestMatrices.Abs(images), Batch, TestMatrices.Abs(weights), TestMatrices.Abs(bias), bound);
        foreach (var isa in ConvolutionTests.SupportedIsas())
        {
            var got = Enumerable.Repeat(float.NaN, want.Length).ToArray();
            Convolution.Forward(isa, shape, images, Batch, weights, bias, got, threads: 2, ConvolutionAlgorithm.Winograd);
            ConvolutionTests.AssertClose(got, want, bound, $"{isa} Winograd output", Normwise);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void InputGradientMatchesTheReferenceScatter(ConvolutionShape shape)
    {
        var random = new Random(shape.GetHashCode() + 11);
        var outputGradient = ConvolutionTests.RandomArray(random, Batch * shape.OutputSize);
        var weights = ConvolutionTests.RandomArray(random, shape.Taps * shape.Filters);
        var want = new float[Batch * shape.InputSize];
        var bound = new float[want.Length];
        ReferenceConvolution.InputGradient(shape, outputGradient, Batch, weights, want);
        ReferenceConvolution.InputGradient(shape, TestMatrices.Abs(outputGradient), Batch, TestMatrices.Abs(weights), bound);
        foreach (var isa in ConvolutionTests.SupportedIsas())
        {
            var got = Enumerable.Repeat(float.NaN, want.Length).ToArray();
            Convolution.InputGradient(isa, shape, outputGradient, Batch, weights, got, threads: 2, ConvolutionAlgorithm.Winograd);
            ConvolutionTests.AssertClose(got, want, bound, $"{isa} Winograd input gradient", Normwise);
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void WeightGradientMatchesTheReference(ConvolutionShape shape)
    {
        // More images than chunks (8), so chunks hold several: the 3×3 shapes then put several images in one block.
        const int WeightGradientBatch = 19;
        var random = new Random(shape.GetHashCode() + 12);
        var images = ConvolutionTests.RandomArray(random, WeightGradientBatch * shape.InputSize);
        var outputGradient = ConvolutionTests.RandomArray(random, WeightGradientBatch * shape.OutputSize);
        var want = new float[shape.Taps * shape.Filters];
        var wantBias = new float[shape.Filters];
        var bound = new float[want.Length];
        var boundBias = new float[shape.Filters];
        ReferenceConvolution.WeightGradient(shape, images, outputGradient, WeightGradientBatch, want, wantBias);
        ReferenceConvolution.WeightGradient(shape, TestMatrices.Abs(images), TestMatrices.Abs(outputGradient), WeightGradientBatch, bound, boundBias);
        foreach (var isa in ConvolutionTests.SupportedIsas())
        {
            var got = Enumerable.Repeat(float.NaN, want.Length).ToArray();
            var gotBias = Enumerable.Repeat(float.NaN, shape.Filters).ToArray();
            Convolution.WeightGradient(isa, shape, images, outputGradient, WeightGradientBatch, got, gotBias, threads: 2, ConvolutionAlgorithm.Winograd);
            ConvolutionTests.AssertClose(got, want, bound, $"{isa} Winograd weight gradient", Normwise);
            ConvolutionTests.AssertClose(gotBias, wantBias, boundBias, $"{isa} Winograd bias gradient");
        }
    }

    // Bit-identical for any thread count: ConvolutionTests.ResultsAreBitIdenticalForAnyThreadCount, both algorithms.

    [Test]
    public void AutoPicksWinogradOnlyWhereItFitsAndAnExplicitMisfitIsRefused()
    {
        var conv2 = new ConvolutionShape(28, 28, 32, 5, 2, 28, 28, 32);
        var conv3 = new ConvolutionShape(14, 14, 32, 3, 1, 14, 14, 64);
        Assert.That(WinogradConvolution.Supports(conv2), Is.True);
        Assert.That(WinogradConvolution.Supports(conv2.Transposed), Is.True);
        Assert.That(WinogradConvolution.Supports(conv3), Is.True);
        Assert.That(WinogradConvolution.Supports(conv3.Transposed), Is.True);
        Assert.That(WinogradConvolution.Supports(new ConvolutionShape(28, 28, 1, 5, 2, 28, 28, 32)), Is.False, "conv1: one channel");
        Assert.That(WinogradConvolution.Supports(new ConvolutionShape(9, 8, 16, 3, 0, 7, 6, 16)), Is.False, "valid");
        Assert.That(WinogradConvolution.Supports(new ConvolutionShape(8, 8, 16, 7, 3, 8, 8, 16)), Is.False, "7×7");
        Assert.That(WinogradConvolution.Supports(new ConvolutionShape(14, 14, 32, 3, 1, 14, 14, 20)), Is.False, "20 filters");
        var misfit = new ConvolutionShape(14, 14, 32, 3, 1, 14, 14, 20);
        Assert.Throws<ArgumentException>(() => Convolution.Forward(misfit, new float[misfit.InputSize], 1, new float[misfit.Taps * misfit.Filters], [],
            new float[misfit.OutputSize], 1, ConvolutionAlgorithm.Winograd));
    }
}
