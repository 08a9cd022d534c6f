using Mnist.Cnn.Layers;
using Mnist.Cnn.Optimizers;

namespace Mnist.Tests.Cnn;

/// <summary>Adam's vectorised, split update against its scalar twin: the same weights, step after step, bit for bit.</summary>
public class AdamKernelTests
{
    [TestCase(37, false, 1)]              // shorter than three vectors, with a tail
    [TestCase(200_003, false, 2)]         // split between the workers, ragged
    [TestCase(200_003, true, 3)]          // AdamW
    public void TheVectorUpdateEqualsTheScalarOne(int length, bool decoupled, int threads)
    {
        using (ComputeThreads.Use(threads))
        {
            var random = new Random(length);
            Parameter Make() => new("w", length, decay: true);
            var (fast, slow) = (Make(), Make());
            var slowState = new[] { new float[length], new float[length] };
            for (int i = 0; i < length; i++) fast.Value[i] = slow.Value[i] = (float)(random.NextDouble() * 2 - 1);
            var initial = (float[])fast.Value.Clone();
            var (fastAdam, slowAdam) = (new Adam(1e-3, 1e-4, decoupled), new Adam(1e-3, 1e-4, decoupled));
            for (int step = 0; step < 3; step++)
            {
                for (int i = 0; i < length; i++) fast.Gradient[i] = slow.Gradient[i] = (float)(random.NextDouble() - 0.5) * (i % 7 + 1);
                fastAdam.Step([fast]);
                slowAdam.Step([]); // advances the step count the bias corrections use
                slowAdam.ReferenceUpdate(slow, slowState);
                // Weights after several steps: any moment that differed would show here.
                Assert.That(fast.Value, Is.EqualTo(slow.Value), $"weights after step {step + 1}");
            }
            Assert.That(fast.Value.Zip(initial).Count(p => p.First != p.Second), Is.GreaterThan(length * 9 / 10), "the steps moved the weights");
        }
    }
}
