using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Cnn.Augmentation;

/// <summary>Predicts <c>images.Count × classes</c> row-major class probabilities of <paramref name="images"/> into <paramref name="probabilities"/>.</summary>
internal delegate void ProbabilityPredictor(DigitDataView images, Span<float> probabilities);

/// <summary>
/// Test-time augmentation: the mean of a model's class probabilities for each image and for
/// <see cref="Variants"/> small random affine variants of it (<see cref="RandomAffine"/> with smaller ranges
/// than training's). Variant v of the image at position i of the view is drawn from
/// <c>Seeds.Derive(Seeds.Derive(seed, −v), i)</c>, so the result depends only on the seed and the data,
/// never on threads or how the view is cut into chunks.
/// </summary>
/// <param name="variants">Augmented copies per image besides the original (0 = plain prediction).</param>
/// <param name="seed">Seed of the variants' transforms.</param>
internal sealed class TestTimeAugmentation(int variants, int seed, double rotationDegrees = 5, double zoom = 0.05, double shift = 0.05)
{
    /// <summary>Images transformed and predicted at once: bounds the extra memory to a chunk's pixels and probabilities.</summary>
    private const int ChunkSize = 1024;
    private readonly RandomAffine _affine = new(rotationDegrees, zoom, shift);

    public int Variants { get; } = variants >= 0 ? variants : throw new ArgumentOutOfRangeException(nameof(variants), "The number of variants cannot be negative.");
    public int Seed { get; } = seed;

    /// <summary>Writes the mean over the original and the variants of <paramref name="predict"/>'s probabilities.</summary>
    public void PredictProbabilities(DigitDataView data, Span<float> probabilities, ProbabilityPredictor predict)
    {
        predict(data, probabilities);
        if (Variants == 0 || data.Count == 0) return;
        int classes = probabilities.Length / data.Count;
        int height = data.Height, width = data.Width, pixels = data.PixelCount;
        var source = new float[Math.Min(ChunkSize, data.Count) * pixels];
        var variantSeeds = Enumerable.Range(1, Variants).Select(v => Seeds.Derive(Seed, -v)).ToArray();
        for (int start = 0; start < data.Count; start += ChunkSize)
        {
            int count = Math.Min(ChunkSize, data.Count - start);
            data.CopyPixels(start, count, source);
            var chunkProbabilities = new float[count * classes];
            var sum = probabilities.Slice(start * classes, count * classes);
            foreach (int variantSeed in variantSeeds)
            {
                var transformed = new float[count * pixels];
                WorkSplit.Run(count, (_, from, to) =>
                {
                    for (int i = from; i < to; i++)
                        _affine.Apply(source.AsSpan(i * pixels, pixels), transformed.AsSpan(i * pixels, pixels), height, width, Seeds.Derive(variantSeed, start + i));
                });
                predict(new DigitDataView(height, width, transformed), chunkProbabilities);
                System.Numerics.Tensors.TensorPrimitives.Add(sum, chunkProbabilities, sum);
            }
            System.Numerics.Tensors.TensorPrimitives.Multiply(sum, 1f / (Variants + 1), sum);
        }
    }
}
