using Mnist.Baselines.Pca;
using Mnist.Core.Numerics;

namespace Mnist.Baselines.Knn;

/// <summary>
/// A quick orthonormal basis close to the leading principal subspace of a set of rows, for
/// <see cref="BoundedSearch"/>: any orthonormal basis gives valid bounds, a better one prunes more, so this does not
/// converge eigenvectors (as <see cref="PcaProjection"/> does) but runs a fixed number of subspace iterations on float
/// GEMMs over an evenly spaced sample, one Rayleigh–Ritz step (so the leading components come first), and
/// re-orthonormalises. Deterministic: seeded start, fixed shapes and iteration count.
/// </summary>
internal static class PrincipalBasis
{
    private const int SampleRows = 8192;
    private const int Oversampling = 33;
    private const int Iterations = 5;
    private const int BlockRows = 2048;

    /// <summary>The mean of the sampled rows and a dims × components basis (column c = component c, leading first).</summary>
    public static (float[] Mean, float[] Basis) Fit(ReadOnlySpan<float> rows, int count, int dims, int components, int seed, int threads)
    {
        int step = Math.Max(1, count / SampleRows), sampled = (count + step - 1) / step;
        var sum = new double[dims];
        for (int i = 0; i < sampled; i++)
        {
            ReadOnlySpan<float> row = rows.Slice(i * step * dims, dims);
            for (int j = 0; j < dims; j++) sum[j] += row[j];
        }
        var mean = new float[dims];
        for (int j = 0; j < dims; j++) mean[j] = (float)(sum[j] / sampled);

        // Covariance in float: the basis only has to be good, not exact.
        var covariance = new float[dims * dims];
        var centred = new float[Math.Min(BlockRows, sampled) * dims];
        for (int start = 0; start < sampled; start += BlockRows)
        {
            int block = Math.Min(BlockRows, sampled - start);
            for (int i = 0; i < block; i++)
                System.Numerics.Tensors.TensorPrimitives.Subtract(rows.Slice((start + i) * step * dims, dims), mean, centred.AsSpan(i * dims, dims));
            Gemm.Multiply(Transpose.Yes, Transpose.No, dims, dims, block, 1f / Math.Max(sampled - 1, 1), centred, dims, centred, dims,
                start == 0 ? 0f : 1f, covariance, dims, threads);
        }

        // Subspace iteration on b vectors, stored as rows: V·C = (C·Vᵀ)ᵀ since C is symmetric.
        int b = Math.Min(dims, components + Oversampling);
        var v = new float[b * dims];
        var z = new float[b * dims];
        var random = new Random(seed);
        for (int i = 0; i < v.Length; i++)
            v[i] = (float)SymmetricEigen.Gaussian(random);
        Orthonormalise(v, b, dims);
        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            Gemm.Multiply(Transpose.No, Transpose.No, b, dims, dims, 1f, v, dims, covariance, dims, 0f, z, dims, threads);
            (v, z) = (z, v);
            Orthonormalise(v, b, dims);
        }

        // Rayleigh–Ritz: the eigenvectors of H = V·C·Vᵀ order the subspace by variance.
        Gemm.Multiply(Transpose.No, Transpose.No, b, dims, dims, 1f, v, dims, covariance, dims, 0f, z, dims, threads);
        var h = new float[b * b];
        Gemm.Multiply(Transpose.No, Transpose.Yes, b, b, dims, 1f, z, dims, v, dims, 0f, h, b, threads);
        var symmetric = new double[b * b];
        for (int i = 0; i < b; i++)
            for (int j = 0; j < b; j++) symmetric[i * b + j] = 0.5 * ((double)h[i * b + j] + h[j * b + i]);
        var (_, u) = SymmetricEigen.Jacobi(symmetric, b);
        var leading = new float[components * b];
        for (int i = 0; i < leading.Length; i++) leading[i] = (float)u[i];
        var w = new float[components * dims];
        Gemm.Multiply(Transpose.No, Transpose.No, components, dims, b, 1f, leading, b, v, dims, 0f, w, dims, threads);
        Orthonormalise(w, components, dims);

        var basis = new float[dims * components];
        for (int c = 0; c < components; c++)
            for (int j = 0; j < dims; j++) basis[j * components + c] = w[c * dims + j];
        return (mean, basis);
    }

    /// <summary>Gram–Schmidt twice, as the PCA's; float is plenty for a basis that only has to be good (its departure from orthonormality is measured and covered by the margin).</summary>
    private static void Orthonormalise(float[] rows, int count, int dims) => SymmetricEigen.Orthonormalise(rows, count, dims, 1e-4f, 1e-30f);
}
