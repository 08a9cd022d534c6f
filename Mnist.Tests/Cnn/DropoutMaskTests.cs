using Mnist.Cnn.Layers;
using Mnist.Core.Training;

namespace Mnist.Tests.Cnn;

/// <summary>Dropout's vectorised mask against the counter-based hash it is defined by, element by element.</summary>
public class DropoutMaskTests
{
    [TestCase(0.25, 2, 5, 7)]  // 70 per sample: two 32-element vectors and a tail
    [TestCase(0.5, 1, 1, 256)]
    [TestCase(0.1, 3, 1, 5)]   // shorter than a vector
    public void EachElementKeepsOrDropsByItsOwnHash(double rate, int height, int width, int channels)
    {
        const int batch = 3, seed = 77;
        var dropout = new Dropout(rate);
        var shape = new TensorShape(height, width, channels);
        dropout.Build(shape, new Random(1));
        dropout.Reseed(seed);
        var ones = Enumerable.Repeat(1f, batch * shape.Size).ToArray();
        var output = new float[ones.Length];
        dropout.Forward(ones, output, batch, training: true);

        int batchSeed = Seeds.Derive(seed, 0);
        uint threshold = (uint)Math.Round(rate * 65536);
        float scale = (float)(1 / (1 - rate));
        for (int s = 0; s < batch; s++)
        {
            ulong counter = (ulong)(uint)Seeds.Derive(batchSeed, s) << 32;
            for (int j = 0; j < shape.Size; j++)
            {
                uint draw = (uint)((Seeds.Mix(counter + (ulong)(j / 4 * 4)) >> (16 * (j % 4))) & 0xFFFF);
                Assert.That(output[s * shape.Size + j], Is.EqualTo(draw >= threshold ? scale : 0f), $"sample {s}, element {j}");
            }
        }
    }
}
