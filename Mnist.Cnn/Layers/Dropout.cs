using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using Mnist.Core.Training;

namespace Mnist.Cnn.Layers;

/// <summary>
/// Inverted dropout: in training each activation is zeroed with probability <see cref="Rate"/> and the
/// survivors scaled by 1/(1−rate), so inference is the identity.
/// </summary>
/// <remarks>
/// The mask is counter-based: element j of sample i in the n-th training batch keeps or drops by a hash
/// of (seed, n, i, j). Samples can then be processed on any thread in any order with the same result.
/// </remarks>
public sealed class Dropout(double rate) : Layer
{
    private int _seed;
    private int _batchCounter;
    private float[] _mask = [];

    public double Rate { get; } = rate is >= 0 and < 1 ? rate : throw new ArgumentOutOfRangeException(nameof(rate));
    public override string Describe() => $"Dropout {Rate:0.##}";

    internal override bool GradientInPlace => true;

    protected override TensorShape ComputeOutputShape(TensorShape input) => input;

    protected override void Initialize(Random random) => _seed = random.Next();

    public override void EnsureCapacity(int maxBatch)
    {
        if (_mask.Length < maxBatch * InputShape.Size) _mask = new float[maxBatch * InputShape.Size];
    }

    internal override void ReleaseScratch() => _mask = [];

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        int size = InputShape.Size;
        int n = batch * size;
        if (!training || Rate == 0)
        {
            input[..n].CopyTo(output);
            return;
        }
        EnsureCapacity(batch);
        // Each sample's mask is written and applied in one go, while it is in cache.
        NextMask(_mask, batch, input, output);
    }

    /// <summary>
    /// Writes the next training batch's mask (batch × InputShape.Size, NHWC: 1/(1−rate) where kept, 0 where
    /// dropped) and advances the stream; the torch backend multiplies by the same masks.
    /// </summary>
    internal void NextMask(float[] destination, int batch) => NextMask(destination, batch, default, default);

    /// <summary>The next mask, and, when <paramref name="input"/> is given, output = input ⊙ mask sample by sample.</summary>
    private void NextMask(float[] destination, int batch, ReadOnlySpan<float> input, Span<float> output)
    {
        int size = InputShape.Size;
        int batchSeed = Seeds.Derive(_seed, _batchCounter++);
        // Keep when a 16-bit uniform draw is ≥ rate·65536; four draws come from each 64-bit hash.
        uint threshold = (uint)Math.Round(Rate * 65536);
        float scale = (float)(1 / (1 - Rate));
        bool apply = !input.IsEmpty;
        BatchParallel.For(batch, input, default, output, (x, _, y, start, end) =>
        {
            for (int s = start; s < end; s++)
            {
                ulong counter = (ulong)(uint)Seeds.Derive(batchSeed, s) << 32;
                Span<float> m = destination.AsSpan(s * size, size);
                int j = Vector512.IsHardwareAccelerated ? FillMaskVectors(counter, threshold, scale, m) : 0;
                for (; j < size; j += 4)
                {
                    ulong bits = Seeds.Mix(counter + (ulong)j);
                    for (int q = 0; q < 4 && j + q < size; q++)
                        m[j + q] = (uint)((bits >> (16 * q)) & 0xFFFF) >= threshold ? scale : 0f;
                }
                if (apply) TensorPrimitives.Multiply(x.Slice(s * size, size), m, y.Slice(s * size, size));
            }
        });
    }

    /// <summary>
    /// The scalar loop's mask, 32 elements at a time: eight hashes Mix(counter + j + 4i) side by side, whose 16-bit
    /// quarters, read as 32 consecutive ushorts, are the draws of elements j … j + 31 in order. Returns how far it got.
    /// </summary>
    private static int FillMaskVectors(ulong counter, uint threshold, float scale, Span<float> mask)
    {
        var offsets = Vector512.Create(0UL, 4, 8, 12, 16, 20, 24, 28);
        var limit = Vector512.Create(threshold);
        var keep = Vector512.Create(scale);
        int j = 0;
        for (; j + 32 <= mask.Length; j += 32)
        {
            var z = Vector512.Create(counter + (ulong)j) + offsets + Vector512.Create(0x9E3779B97F4A7C15UL);
            z = (z ^ Vector512.ShiftRightLogical(z, 30)) * Vector512.Create(0xBF58476D1CE4E5B9UL);
            z = (z ^ Vector512.ShiftRightLogical(z, 27)) * Vector512.Create(0x94D049BB133111EBUL);
            z ^= Vector512.ShiftRightLogical(z, 31);
            var (low, high) = Vector512.Widen(z.AsUInt16());
            (Vector512.GreaterThanOrEqual(low, limit).AsSingle() & keep).CopyTo(mask.Slice(j, 16));
            (Vector512.GreaterThanOrEqual(high, limit).AsSingle() & keep).CopyTo(mask.Slice(j + 16, 16));
        }
        return j;
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty) return;
        int n = batch * InputShape.Size;
        if (Rate == 0)
        {
            outputGradient[..n].CopyTo(inputGradient);
            return;
        }
        int size = InputShape.Size;
        float[] mask = _mask;
        BatchParallel.For(batch, outputGradient, default, inputGradient, (dy, _, dx, start, end) =>
            TensorPrimitives.Multiply(dy[(start * size)..(end * size)], mask.AsSpan(start * size, (end - start) * size), dx[(start * size)..(end * size)]));
    }

    /// <summary>Restarts the mask stream from <paramref name="seed"/> (the trainer does this each epoch, so an epoch's masks depend only on the seed and the epoch).</summary>
    public void Reseed(int seed)
    {
        _seed = seed;
        _batchCounter = 0;
    }
}
