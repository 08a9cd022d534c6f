using System.Numerics.Tensors;
using Mnist.Baselines.Common;
using Mnist.Core.Numerics;

namespace Mnist.Baselines.Pca;

/// <summary>
/// Principal component analysis: the mean and the leading eigenvectors of the sample covariance, and the
/// projection y = (x − μ)·W onto them (W is dims × components, column c = component c).
/// </summary>
/// <remarks>
/// Fit centres the rows in blocks, accumulates the covariance XcᵀXc/(n − 1) through <see cref="Gemm"/> into a
/// double matrix, and takes its top eigenpairs with <see cref="SymmetricEigen.TopEigenpairs"/> (seeded, so the
/// same data and seed give the same components; the GEMM is thread-count independent).
/// </remarks>
public sealed class PcaProjection
{
    private const int BlockRows = 2048;
    private const int MaxDimensions = 1 << 16;

    private PcaProjection(int dimensions, int components, float[] mean, float[] basis, double[] variances)
    {
        Dimensions = dimensions;
        Components = components;
        Mean = mean;
        Basis = basis;
        Variances = variances;
        var offset = new float[components];
        // μ·W, subtracted after the product X·W.
        Gemm.Multiply(Transpose.No, Transpose.No, 1, components, dimensions, 1f, mean, dimensions, basis, components, 0f, offset, components, threads: 1);
        _offset = offset;
    }

    private readonly float[] _offset;

    public int Dimensions { get; }
    public int Components { get; }
    public float[] Mean { get; }
    /// <summary>dims × components, row-major.</summary>
    public float[] Basis { get; }
    /// <summary>The eigenvalues (variance along each component), descending.</summary>
    public double[] Variances { get; }

    /// <summary>Fits the projection to <paramref name="count"/> contiguous rows of <paramref name="dims"/> values.</summary>
    public static PcaProjection Fit(ReadOnlySpan<float> rows, int count, int dims, int components, int seed, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(components, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(components, dims);
        if (rows.Length < (long)count * dims) throw new ArgumentException("rows is smaller than count × dims.", nameof(rows));

        var meanD = new double[dims];
        for (int i = 0; i < count; i++)
        {
            ReadOnlySpan<float> row = rows.Slice(i * dims, dims);
            for (int j = 0; j < dims; j++) meanD[j] += row[j];
        }
        var mean = new float[dims];
        for (int j = 0; j < dims; j++) mean[j] = (float)(meanD[j] / count);

        var covariance = new double[dims * dims];
        var centred = new float[Math.Min(BlockRows, count) * dims];
        var product = new float[dims * dims];
        for (int start = 0; start < count; start += BlockRows)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int block = Math.Min(BlockRows, count - start);
            for (int i = 0; i < block; i++)
                TensorPrimitives.Subtract(rows.Slice((start + i) * dims, dims), mean, centred.AsSpan(i * dims, dims));
            Gemm.Multiply(Transpose.Yes, Transpose.No, dims, dims, block, 1f, centred, dims, centred, dims, 0f, product, dims);
            for (int k = 0; k < product.Length; k++) covariance[k] += product[k];
        }
        for (int k = 0; k < covariance.Length; k++) covariance[k] /= count - 1;

        var (values, vectors) = SymmetricEigen.TopEigenpairs(covariance, dims, components, seed, cancellationToken: cancellationToken);
        var basis = new float[dims * components];
        for (int c = 0; c < components; c++)
            for (int j = 0; j < dims; j++) basis[j * components + c] = (float)vectors[c * dims + j];
        return new PcaProjection(dims, components, mean, basis, values);
    }

    /// <summary>Writes the count × components projections of <paramref name="count"/> contiguous rows.</summary>
    public void Project(ReadOnlySpan<float> rows, int count, Span<float> output, int threads = 0)
    {
        if (rows.Length < (long)count * Dimensions) throw new ArgumentException("rows is smaller than count × dims.", nameof(rows));
        if (output.Length < (long)count * Components) throw new ArgumentException("output is smaller than count × components.", nameof(output));
        if (count == 0) return;
        Gemm.Multiply(Transpose.No, Transpose.No, count, Components, Dimensions, 1f, rows, Dimensions, Basis, Components, 0f, output, Components, threads);
        for (int i = 0; i < count; i++)
        {
            Span<float> row = output.Slice(i * Components, Components);
            TensorPrimitives.Subtract(row, _offset, row);
        }
    }

    public void Write(BinaryWriter writer)
    {
        writer.Write(Dimensions);
        writer.Write(Components);
        ModelPayload.WriteFloats(writer, Mean);
        ModelPayload.WriteFloats(writer, Basis);
        foreach (double v in Variances) writer.Write(v);
    }

    /// <summary>Reads what <see cref="Write"/> wrote; throws <see cref="InvalidDataException"/> on nonsense.</summary>
    public static PcaProjection Read(BinaryReader reader)
    {
        int dims = reader.ReadInt32();
        int components = reader.ReadInt32();
        if (dims < 1 || dims > MaxDimensions) throw new InvalidDataException($"Invalid PCA input dimension {dims}.");
        if (components < 1 || components > dims) throw new InvalidDataException($"Invalid PCA component count {components} for {dims} dimensions.");
        long needed = (dims + (long)dims * components) * sizeof(float) + (long)components * sizeof(double);
        if (needed > reader.BaseStream.Length - reader.BaseStream.Position)
            throw new InvalidDataException($"The payload is too short for a {dims} × {components} PCA projection.");
        var mean = ModelPayload.ReadFiniteFloats(reader, dims, "PCA mean");
        var basis = ModelPayload.ReadFiniteFloats(reader, (long)dims * components, "PCA basis value");
        var variances = ModelPayload.ReadFiniteDoubles(reader, components, "PCA variance");
        return new PcaProjection(dims, components, mean, basis, variances);
    }
}
