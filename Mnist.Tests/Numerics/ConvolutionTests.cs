using Mnist.Core.Numerics;

namespace Mnist.Tests.Numerics;

/// <summary>The direct convolution (forward, input gradient, weight gradient) against its reference twin, on every instruction set (Winograd: <see cref="WinogradTests"/>).</summary>
internal class ConvolutionTests
{
    private const int Batch = 3;

    internal static IEnumerable<GemmIsa> SupportedIsas()
    {
        yield return GemmIsa.Scalar;
        if (Gemm.DefaultIsa >= GemmIsa.Avx2) yield return GemmIsa.Avx2;
        if (Gemm.DefaultIsa >= GemmIsa.Avx512) yield return GemmIsa.Avx512;
    }

    // (height, width, channels, kernel, pad, outHeight, outWidth, filters): the cnn's four layers, 'valid', an even
    // kernel, filters that are not whole vectors (1, 20, 33, 80 = 5 vectors), a 1×1 image and a narrow tall one.
    private static readonly int[][] Shapes =
    [
        [28, 28, 1, 5, 2, 28, 28, 32],
        [28, 28, 32, 5, 2, 28, 28, 32],
        [14, 14, 32, 3, 1, 14, 14, 64],
        [14, 14, 64, 3, 1, 14, 14, 64],
        [9, 8, 3, 3, 0, 7, 6, 20],
        [4, 5, 2, 2, 0, 4, 5, 33],
        [7, 7, 17, 3, 1, 7, 7, 80],
        [1, 1, 7, 3, 1, 1, 1, 1],
        [31, 3, 16, 5, 2, 31, 3, 5],
    ];

    private static IEnumerable<TestCaseData> Cases() => CasesOf(Shapes);

    /// <summary>One test case per (height, width, channels, kernel, pad, outHeight, outWidth, filters), named by its sizes.</summary>
    internal static IEnumerable<TestCaseData> CasesOf(int[][] shapes) =>
        shapes.Select(s => new TestCaseData(new ConvolutionShape(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7])).SetArgDisplayNames(string.Join("×", s)));

    internal static float[] RandomArray(Random random, int length) =>
        Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();

    /// <summary>
    /// |got − want| ≤ 1e-4 · (Σ|terms|) + <paramref name="normwise"/> · max(Σ|terms|), with the bound from the reference
    /// run on absolute values. The normwise part is for Winograd, whose transforms mix an output's rounding with its
    /// neighbours' (a weight tap that meets only padding is exactly 0 directly, but a few ulps of the others by Winograd).
    /// </summary>
    internal static void AssertClose(float[] got, float[] want, float[] bound, string what, double normwise = 0)
    {
        double floor = 1e-6 + normwise * bound.Max();
        for (int i = 0; i < want.Length; i++)
        {
            Assert.That(float.IsFinite(got[i]), Is.True, $"{what}[{i}] = {got[i]}");
            Assert.That(Math.Abs(got[i] - want[i]), Is.LessThanOrEqualTo(1e-4 * bound[i] + floor), $"{what}[{i}]: {got[i]} vs {want[i]}");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void ForwardMatchesTheReference(ConvolutionShape shape)
    {
        var random = new Random(shape.GetHashCode());
        var images = RandomArray(random, Batch * shape.InputSize);
        var weights = RandomArray(random, shape.Taps * shape.Filters);
        var bias = RandomArray(random, shape.Filters);
        var want = new float[Batch * shape.OutputSize];
        var bound = new float[want.Length];
        ReferenceConvolution.Forward(shape, images, Batch, weights, bias, want);
        ReferenceConvolution.Forward(shape, TestMatrices.Abs(images), Batch, TestMatrices.Abs(weights), TestMatrices.Abs(bias), bound);
        foreach (var isa in SupportedIsas())
        {
            var got = Enumerable.Repeat(float.NaN, want.Length).ToArray();
            Convolution.Forward(isa, shape, images, Batch, weights, bias, got, threads: 2, ConvolutionAlgorithm.Direct);
            AssertClose(got, want, bound, $"{isa} output");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void InputGradientMatchesTheReferenceScatter(ConvolutionShape shape)
    {
        var random = new Random(shape.GetHashCode() + 1);
        var outputGradient = RandomArray(random, Batch * shape.OutputSize);
        var weights = RandomArray(random, shape.Taps * shape.Filters);
        var want = new float[Batch * shape.InputSize];
        var bound = new float[want.Length];
        ReferenceConvolution.InputGradient(shape, outputGradient, Batch, weights, want);
        ReferenceConvolution.InputGradient(shape, TestMatrices.Abs(outputGradient), Batch, TestMatrices.Abs(weights), bound);
        foreach (var isa in SupportedIsas())
        {
            var got = Enumerable.Repeat(float.NaN, want.Length).ToArray();
            Convolution.InputGradient(isa, shape, outputGradient, Batch, weights, got, threads: 2, ConvolutionAlgorithm.Direct);
            AssertClose(got, want, bound, $"{isa} input gradient");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void WeightGradientMatchesTheReference(ConvolutionShape shape)
    {
        var random = new Random(shape.GetHashCode() + 2);
        var images = RandomArray(random, Batch * shape.InputSize);
        var outputGradient = RandomArray(random, Batch * shape.OutputSize);
        var want = new float[shape.Taps * shape.Filters];
        var wantBias = new float[shape.Filters];
        var bound = new float[want.Length];
        var boundBias = new float[shape.Filters];
        ReferenceConvolution.WeightGradient(shape, images, outputGradient, Batch, want, wantBias);
        ReferenceConvolution.WeightGradient(shape, TestMatrices.Abs(images), TestMatrices.Abs(outputGradient), Batch, bound, boundBias);
        foreach (var isa in SupportedIsas())
        {
            var got = Enumerable.Repeat(float.NaN, want.Length).ToArray();
            var gotBias = Enumerable.Repeat(float.NaN, shape.Filters).ToArray();
            Convolution.WeightGradient(isa, shape, images, outputGradient, Batch, got, gotBias, threads: 2, ConvolutionAlgorithm.Direct);
            AssertClose(got, want, bound, $"{isa} weight gradient");
            AssertClose(gotBias, wantBias, boundBias, $"{isa} bias gradient");
        }
    }

    [TestCase(ConvolutionAlgorithm.Direct, 3)]
    [TestCase(ConvolutionAlgorithm.Winograd, 5)]
    [TestCase(ConvolutionAlgorithm.Winograd, 3)]
    public void ResultsAreBitIdenticalForAnyThreadCount(ConvolutionAlgorithm algorithm, int kernel)
    {
        var shape = kernel == 5 ? new ConvolutionShape(28, 28, 32, 5, 2, 28, 28, 32) : new ConvolutionShape(14, 14, 32, 3, 1, 14, 14, 64);
        const int batch = 19; // more images than weight-gradient chunks, not a multiple of them
        var random = new Random(3);
        var images = RandomArray(random, batch * shape.InputSize);
        var weights = RandomArray(random, shape.Taps * shape.Filters);
        var bias = RandomArray(random, shape.Filters);
        var outputGradient = RandomArray(random, batch * shape.OutputSize);
        (float[] Output, float[] InputGradient, float[] WeightGradient, float[] BiasGradient) Run(int threads)
        {
            var output = new float[batch * shape.OutputSize];
            var inputGradient = new float[batch * shape.InputSize];
            var weightGradient = new float[shape.Taps * shape.Filters];
            var biasGradient = new float[shape.Filters];
            Convolution.Forward(shape, images, batch, weights, bias, output, threads, algorithm);
            Convolution.InputGradient(shape, outputGradient, batch, weights, inputGradient, threads, algorithm);
            Convolution.WeightGradient(shape, images, outputGradient, batch, weightGradient, biasGradient, threads, algorithm);
            return (output, inputGradient, weightGradient, biasGradient);
        }
        var one = Run(1);
        foreach (int threads in new[] { 2, 3 })
        {
            var other = Run(threads);
            Assert.That(other.Output, Is.EqualTo(one.Output), $"output, {threads} threads");
            Assert.That(other.InputGradient, Is.EqualTo(one.InputGradient), $"input gradient, {threads} threads");
            Assert.That(other.WeightGradient, Is.EqualTo(one.WeightGradient), $"weight gradient, {threads} threads");
            Assert.That(other.BiasGradient, Is.EqualTo(one.BiasGradient), $"bias gradient, {threads} threads");
        }
    }

    [Test]
    public void ACentredDeltaKernelCopiesTheImage()
    {
        // 3×3 'same' with weight 1 at the centre tap from channel c to filter c: the output is the input.
        var shape = new ConvolutionShape(5, 4, 2, 3, 1, 5, 4, 2);
        var weights = new float[shape.Taps * shape.Filters];
        for (int c = 0; c < 2; c++) weights[((1 * 3 + 1) * 2 + c) * 2 + c] = 1f;
        var image = Enumerable.Range(0, shape.InputSize).Select(i => (float)i).ToArray();
        var output = new float[shape.OutputSize];
        Convolution.Forward(shape, image, 1, weights, [], output);
        Assert.That(output, Is.EqualTo(image));
    }

    [Test]
    public void ShortBuffersAreRejected()
    {
        var shape = new ConvolutionShape(4, 4, 1, 3, 1, 4, 4, 2);
        var weights = new float[shape.Taps * shape.Filters];
        Assert.Throws<ArgumentException>(() => Convolution.Forward(shape, new float[15], 1, weights, [], new float[32]));
        Assert.Throws<ArgumentException>(() => Convolution.Forward(shape, new float[16], 1, weights, [], new float[31]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Convolution.Forward(shape with { Pad = 3 }, new float[16], 1, weights, [], new float[32]));
    }
}
