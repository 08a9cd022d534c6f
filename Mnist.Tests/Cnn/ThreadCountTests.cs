using Mnist.Cnn.Layers;
using Mnist.Cnn.Optimizers;
using Mnist.Cnn.Training;

namespace Mnist.Tests.Cnn;

/// <summary>Training steps of the cnn's layer stack give bit-identical weights on 1, 2 and 3 threads.</summary>
public class ThreadCountTests
{
    private static Layer[] CnnLayers() =>
    [
        new Conv2D(32, 5), new BatchNorm(), new Relu(),
        new Conv2D(32, 5), new BatchNorm(), new Relu(),
        new MaxPool2D(2), new Dropout(0.25),
        new Conv2D(64, 3), new BatchNorm(), new Relu(),
        new MaxPool2D(2), new Dropout(0.25),
        new Flatten(), new Dense(32), new BatchNorm(), new Relu(),
        new Dense(10),
    ];

    private static float[] Train(int threads)
    {
        using (ComputeThreads.Use(threads))
        {
            const int batch = 21;
            var shape = new TensorShape(12, 12, 1);
            var layers = CnnLayers();
            var random = new Random(9);
            foreach (var layer in layers)
            {
                layer.Build(shape, random);
                layer.EnsureCapacity(batch);
                shape = layer.OutputShape;
            }
            var input = Enumerable.Range(0, batch * 144).Select(_ => (float)random.NextDouble()).ToArray();
            var labels = Enumerable.Range(0, batch).Select(_ => random.Next(10)).ToArray();
            var activations = layers.Select(l => new float[batch * l.OutputShape.Size]).ToArray();
            var gradients = layers.Select(l => new float[batch * l.InputShape.Size]).ToArray();
            var logitGradient = new float[batch * 10];
            var optimizer = new Adam(2e-3);
            var parameters = layers.SelectMany(l => l.Parameters).ToList();
            for (int step = 0; step < 3; step++)
            {
                ReadOnlySpan<float> current = input;
                for (int i = 0; i < layers.Length; i++)
                {
                    layers[i].Forward(current, activations[i], batch, training: true);
                    current = activations[i];
                }
                SoftmaxCrossEntropy.Compute(activations[^1], labels, 10, 0, logitGradient);
                ReadOnlySpan<float> gradient = logitGradient;
                for (int i = layers.Length - 1; i >= 0; i--)
                {
                    layers[i].Backward(i == 0 ? input : activations[i - 1], activations[i], gradient, i == 0 ? [] : gradients[i], batch);
                    gradient = i == 0 ? [] : gradients[i];
                }
                optimizer.Step(parameters);
            }
            return parameters.SelectMany(p => p.Value).ToArray();
        }
    }

    [Test]
    public void WeightsAfterTrainingStepsAreTheSameForAnyThreadCount()
    {
        var one = Train(1);
        Assert.That(Train(2), Is.EqualTo(one));
        Assert.That(Train(3), Is.EqualTo(one));
    }
}
