using Mnist.Core.Numerics;

namespace Mnist.Tests.Numerics;

/// <summary>Winograd F(4×4, 5×5) and F(4×4, 3×3): their matrices exactly, and their three products against the direct loops of <see cref="ReferenceConvolution"/>.</summary>
internal class WinogradTests
{
    /// <summary>Five images: the 14×14 shapes go three to a block in the forward, so the last block holds two.</summary>
    private const int Batch = 5;

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

    /// <summary>The rows × columns matrix of a line transform: column l is its image of the unit vector e_l.</summary>
    private static unsafe double[,] MatrixOf(int rows, int columns, Action<IntPtr, IntPtr> transform)
    {
        var matrix = new double[rows, columns];
        float* x = stackalloc float[columns], y = stackalloc float[rows];
        for (int l = 0; l < columns; l++)
        {
            for (int k = 0; k < columns; k++) x[k] = k == l ? 1f : 0f;
            transform((IntPtr)x, (IntPtr)y);
            for (int j = 0; j < rows; j++) matrix[j, l] = y[j];
        }
        return matrix;
    }

    /// <summary>Bᵀ (α × α), Aᵀ (m × α) and A (α × m) as the code applies them.</summary>
    private static unsafe double[,] InputMatrix<TTile>() where TTile : struct, IWinogradTile =>
        MatrixOf(TTile.Side, TTile.Side, (x, y) => TTile.InputLine<ScalarOps, float>((float*)x, 1, (float*)y, 1));

    private static unsafe double[,] OutputMatrix<TTile>() where TTile : struct, IWinogradTile =>
        MatrixOf(WinogradConvolution.OutputTile, TTile.Side, (x, y) => TTile.OutputLine<ScalarOps, float>((float*)x, 1, (float*)y, 1));

    private static unsafe double[,] GradientMatrix<TTile>() where TTile : struct, IWinogradTile =>
        MatrixOf(TTile.Side, WinogradConvolution.OutputTile, (x, y) => TTile.GradientLine<ScalarOps, float>((float*)x, 1, (float*)y, 1));

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
