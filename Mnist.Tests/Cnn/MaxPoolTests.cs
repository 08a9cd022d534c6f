using Mnist.Cnn.Layers;

namespace Mnist.Tests.Cnn;

/// <summary>
/// MaxPool2D against a plain loop over each window: the first maximum in window order wins (ties are frequent here),
/// the gradient goes to it alone, and every input gradient is written (the buffer starts as NaN), a dropped trailing
/// row or column included.
/// </summary>
public class MaxPoolTests
{
    [TestCase(6, 6, 32, 2)]  // whole vectors of channels
    [TestCase(7, 5, 20, 2)]  // a vector and a tail; odd sizes drop a row and a column
    [TestCase(9, 9, 3, 3)]   // channels shorter than a vector
    [TestCase(8, 8, 16, 4)]
    public void ForwardAndBackwardMatchAPlainLoop(int height, int width, int channels, int pool)
    {
        const int batch = 3;
        var shape = new TensorShape(height, width, channels);
        var layer = new MaxPool2D(pool);
        layer.Build(shape, new Random(1));
        layer.EnsureCapacity(batch);
        var random = new Random(height * 100 + channels);
        var input = Enumerable.Range(0, batch * shape.Size).Select(_ => (float)random.Next(-3, 4)).ToArray(); // seven levels: many ties
        var dy = Enumerable.Range(0, batch * layer.OutputShape.Size).Select(_ => (float)(random.NextDouble() + 0.5)).ToArray();

        var output = new float[dy.Length];
        layer.Forward(input, output, batch, training: true);
        var dx = Enumerable.Repeat(float.NaN, input.Length).ToArray();
        layer.Backward(input, output, dy, dx, batch);

        var (wantOutput, wantDx) = Reference(input, dy, batch, shape, pool);
        Assert.That(output, Is.EqualTo(wantOutput));
        Assert.That(dx, Is.EqualTo(wantDx));
    }

    private static (float[] Output, float[] Dx) Reference(float[] input, float[] dy, int batch, TensorShape shape, int pool)
    {
        int outHeight = shape.Height / pool, outWidth = shape.Width / pool, c = shape.Channels;
        var output = new float[dy.Length];
        var dx = new float[input.Length];
        int Index(int b, int y, int x, int ch) => ((b * shape.Height + y) * shape.Width + x) * c + ch;
        for (int b = 0; b < batch; b++)
            for (int oy = 0; oy < outHeight; oy++)
                for (int ox = 0; ox < outWidth; ox++)
                    for (int ch = 0; ch < c; ch++)
                    {
                        int winner = -1;
                        for (int py = 0; py < pool; py++)
                            for (int px = 0; px < pool; px++)
                            {
                                int i = Index(b, oy * pool + py, ox * pool + px, ch);
                                if (winner < 0 || input[i] > input[winner]) winner = i;
                            }
                        int o = ((b * outHeight + oy) * outWidth + ox) * c + ch;
                        output[o] = input[winner];
                        dx[winner] = dy[o];
                    }
        return (output, dx);
    }
}
