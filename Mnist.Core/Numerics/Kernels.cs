using System.Numerics.Tensors;

namespace Mnist.Core.Numerics;

/// <summary>Small shared kernels over row-major matrices; each has a plain twin in <see cref="ReferenceKernels"/>.</summary>
public static class Kernels
{
    /// <summary>Index of the largest value in each row of a rows × <paramref name="columns"/> matrix (first on ties).</summary>
    public static int[] ArgMaxRows(ReadOnlySpan<float> matrix, int columns)
    {
        int rows = matrix.Length / columns;
        var result = new int[rows];
        ArgMaxRows(matrix, columns, result);
        return result;
    }

    public static void ArgMaxRows(ReadOnlySpan<float> matrix, int columns, Span<int> result)
    {
        int rows = matrix.Length / columns;
        for (int r = 0; r < rows; r++)
            result[r] = TensorPrimitives.IndexOfMax(matrix.Slice(r * columns, columns));
    }

    /// <summary>In-place softmax of each row (numerically stable: the row maximum is subtracted first).</summary>
    public static void SoftmaxRows(Span<float> matrix, int columns)
    {
        int rows = matrix.Length / columns;
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = matrix.Slice(r * columns, columns);
            TensorPrimitives.Subtract(row, TensorPrimitives.Max(row), row);
            TensorPrimitives.Exp(row, row);
            TensorPrimitives.Divide(row, TensorPrimitives.Sum(row), row);
        }
    }

    /// <summary>Adds <paramref name="bias"/> to each row of the matrix.</summary>
    public static void AddBiasRows(Span<float> matrix, ReadOnlySpan<float> bias)
    {
        int columns = bias.Length;
        int rows = matrix.Length / columns;
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = matrix.Slice(r * columns, columns);
            TensorPrimitives.Add(row, bias, row);
        }
    }
}

/// <summary>Obviously-correct scalar twins of <see cref="Kernels"/>, for tests.</summary>
public static class ReferenceKernels
{
    public static int[] ArgMaxRows(ReadOnlySpan<float> matrix, int columns)
    {
        int rows = matrix.Length / columns;
        var result = new int[rows];
        for (int r = 0; r < rows; r++)
        {
            int best = 0;
            for (int c = 1; c < columns; c++)
                if (matrix[r * columns + c] > matrix[r * columns + best]) best = c;
            result[r] = best;
        }
        return result;
    }

    public static void SoftmaxRows(Span<float> matrix, int columns)
    {
        int rows = matrix.Length / columns;
        for (int r = 0; r < rows; r++)
        {
            double max = double.NegativeInfinity;
            for (int c = 0; c < columns; c++) max = Math.Max(max, matrix[r * columns + c]);
            double sum = 0;
            for (int c = 0; c < columns; c++) sum += Math.Exp(matrix[r * columns + c] - max);
            for (int c = 0; c < columns; c++) matrix[r * columns + c] = (float)(Math.Exp(matrix[r * columns + c] - max) / sum);
        }
    }
}
