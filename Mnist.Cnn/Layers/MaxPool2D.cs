using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Mnist.Cnn.Layers;

/// <summary>Max pooling over non-overlapping pool×pool windows (stride = pool; rows and columns past the last whole window are dropped, as in Keras).</summary>
/// <remarks>
/// Channels-last lets a window be compared a whole vector of channels at a time; the winner of each output (the first
/// maximum in window order) is kept as its place in the window, two bytes per output, for the backward pass, which
/// then writes every input gradient once (the winner's dy, zeros around it) instead of clearing and scattering.
/// Samples run in parallel.
/// </remarks>
public sealed class MaxPool2D(int pool = 2) : Layer
{
    private ushort[] _winners = []; // per output element: the winner's place in its window, py·Pool + px
    private int[] _offsets = [];    // per place in a window: its distance from the window's first element

    public int Pool { get; } = pool > 0 ? pool : throw new ArgumentOutOfRangeException(nameof(pool));
    public override string Describe() => $"MaxPool2D {Pool}×{Pool}";

    protected override TensorShape ComputeOutputShape(TensorShape input)
    {
        if (input.Height < Pool || input.Width < Pool) throw new ArgumentException($"A {Pool}×{Pool} pool does not fit a {input} input.");
        if (Pool > 256) throw new ArgumentException($"A {Pool}×{Pool} pool is larger than 256×256.");
        return new TensorShape(input.Height / Pool, input.Width / Pool, input.Channels);
    }

    protected override void Initialize(Random random)
    {
        // Within the rows of one row of windows: place k = py·Pool + px.
        _offsets = new int[Pool * Pool];
        for (int k = 0; k < _offsets.Length; k++) _offsets[k] = (k / Pool * InputShape.Width + k % Pool) * InputShape.Channels;
    }

    public override void EnsureCapacity(int maxBatch)
    {
        if (_winners.Length < maxBatch * OutputShape.Size) _winners = new ushort[maxBatch * OutputShape.Size];
    }

    internal override void ReleaseScratch() => _winners = [];

    public override void Forward(ReadOnlySpan<float> input, Span<float> output, int batch, bool training)
    {
        EnsureCapacity(batch);
        int inSize = InputShape.Size, outSize = OutputShape.Size, rowsSize = RowsSize, outRowSize = OutRowSize;
        BatchParallel.For(batch, input, default, output, (x, _, y, start, end) =>
        {
            for (int b = start; b < end; b++)
                for (int oy = 0; oy < OutputShape.Height; oy++)
                    PoolRow(x.Slice(b * inSize + oy * rowsSize, rowsSize), y.Slice(b * outSize + oy * outRowSize, outRowSize), b, oy);
        });
    }

    /// <summary>The input rows one row of windows covers (Pool × Width × Channels).</summary>
    internal int RowsSize => Pool * InputShape.Width * InputShape.Channels;

    /// <summary>One output row (Width × Channels of the output).</summary>
    internal int OutRowSize => OutputShape.Width * OutputShape.Channels;

    private int VectorChannels => Avx512F.IsSupported ? InputShape.Channels - InputShape.Channels % Vector512<float>.Count : 0;

    /// <summary>
    /// Pools output row <paramref name="outRow"/> of sample <paramref name="sample"/> from <paramref name="rows"/>, the
    /// <see cref="RowsSize"/> input values its windows cover, and keeps the winners for the backward pass.
    /// </summary>
    internal void PoolRow(ReadOnlySpan<float> rows, Span<float> pooled, int sample, int outRow)
    {
        int channels = InputShape.Channels, window = Pool * Pool, vectorChannels = VectorChannels;
        Span<ushort> winners = _winners.AsSpan(sample * OutputShape.Size + outRow * OutRowSize, OutRowSize);
        ReadOnlySpan<int> offsets = _offsets;
        for (int ox = 0; ox < OutputShape.Width; ox++)
        {
            int outBase = ox * channels, first = ox * Pool * channels;
            for (int c = 0; c < vectorChannels; c += Vector512<float>.Count)
            {
                var best = Vector512.Create(rows.Slice(first + c, Vector512<float>.Count));
                var bestPlace = Vector512<uint>.Zero;
                for (int k = 1; k < window; k++)
                {
                    var candidate = Vector512.Create(rows.Slice(first + offsets[k] + c, Vector512<float>.Count));
                    var greater = Vector512.GreaterThan(candidate, best);
                    best = Vector512.ConditionalSelect(greater, candidate, best);
                    bestPlace = Vector512.ConditionalSelect(greater.AsUInt32(), Vector512.Create((uint)k), bestPlace);
                }
                best.CopyTo(pooled.Slice(outBase + c, Vector512<float>.Count));
                Avx512F.ConvertToVector256UInt16(bestPlace).CopyTo(winners.Slice(outBase + c, Vector512<float>.Count));
            }
            for (int c = vectorChannels; c < channels; c++)
            {
                float best = rows[first + c];
                int bestPlace = 0;
                for (int k = 1; k < window; k++)
                {
                    float candidate = rows[first + offsets[k] + c];
                    if (candidate > best)
                    {
                        best = candidate;
                        bestPlace = k;
                    }
                }
                pooled[outBase + c] = best;
                winners[outBase + c] = (ushort)bestPlace;
            }
        }
    }

    public override void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> output, ReadOnlySpan<float> outputGradient, Span<float> inputGradient, int batch)
    {
        if (inputGradient.IsEmpty) return;
        int inSize = InputShape.Size, imagePositions = InputShape.Height * InputShape.Width;
        BatchParallel.For(batch, outputGradient, default, inputGradient, (dy, _, dx, start, end) =>
            Unpool(dy, start * imagePositions, dx[(start * inSize)..(end * inSize)]));
    }

    /// <summary>
    /// The input gradient at the batch's positions <paramref name="firstPosition"/> onwards (position = (sample·Height + y)·Width + x),
    /// as many as <paramref name="dx"/> holds, each written once: the window's dy where it won, 0 elsewhere and in a dropped
    /// trailing row or column. <paramref name="dy"/> is the whole batch's output gradient.
    /// </summary>
    internal void Unpool(ReadOnlySpan<float> dy, int firstPosition, Span<float> dx)
    {
        int channels = InputShape.Channels, width = InputShape.Width, height = InputShape.Height;
        int pooledHeight = OutputShape.Height * Pool, pooledWidth = OutputShape.Width * Pool;
        int positions = dx.Length / channels;
        // Row by row of the image, so that the window and place of each position follow by counting, not dividing.
        for (int p = 0; p < positions;)
        {
            int sample = (firstPosition + p) / (height * width), y = (firstPosition + p) % (height * width) / width, x = (firstPosition + p) % width;
            int count = Math.Min(width - x, positions - p);
            Span<float> rowGradient = dx.Slice(p * channels, count * channels);
            int pooled = Math.Max(0, Math.Min(count, pooledWidth - x)); // positions under a window (none in a dropped trailing column)
            if (y >= pooledHeight || pooled == 0)
            {
                rowGradient.Clear();
            }
            else
            {
                int rowBase = sample * OutputShape.Size + y / Pool * OutRowSize;
                UnpoolRow(dy, rowBase, (uint)(y % Pool * Pool), x, pooled, rowGradient);
            }
            p += count;
        }
    }

    /// <summary>
    /// Positions x … x + pooled − 1 of one image row, pooled ≥ 1 (the rest of <paramref name="dx"/>, past the last whole window, is zeroed).
    /// The row's windows start at <paramref name="rowBase"/> in dy; <paramref name="rowPlace"/> is py·Pool.
    /// </summary>
    private unsafe void UnpoolRow(ReadOnlySpan<float> dy, int rowBase, uint rowPlace, int x, int pooled, Span<float> dx)
    {
        int channels = InputShape.Channels, vectorChannels = VectorChannels;
        // The windows read are x / Pool … (x + pooled − 1) / Pool of the row.
        if (dy.Length < rowBase + ((x + pooled - 1) / Pool + 1) * channels || dx.Length < pooled * channels) throw new ArgumentException("dy or dx is too short.", nameof(dy));
        int ox = x / Pool, px = x % Pool;
        fixed (float* pdy = dy, pdx = dx)
        fixed (ushort* pw = _winners)
        {
            for (int i = 0; i < pooled; i++)
            {
                int outBase = rowBase + ox * channels;
                uint place = rowPlace + (uint)px;
                float* gradient = pdx + (nint)i * channels;
                var placeVector = Vector512.Create(place);
                for (int c = 0; c < vectorChannels; c += Vector512<float>.Count)
                {
                    var won = Vector512.Equals(Avx512F.ConvertToVector512UInt32(Vector256.Load(pw + outBase + c)), placeVector);
                    (won.AsSingle() & Vector512.Load(pdy + outBase + c)).Store(gradient + c);
                }
                for (int c = vectorChannels; c < channels; c++) gradient[c] = pw[outBase + c] == place ? pdy[outBase + c] : 0f;
                if (++px == Pool)
                {
                    px = 0;
                    ox++;
                }
            }
        }
        dx[(pooled * channels)..].Clear();
    }
}
