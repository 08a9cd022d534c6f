using Mnist.Core.Training;

namespace Mnist.Cnn.Augmentation;

/// <summary>
/// On-the-fly augmentation as Keras' ImageDataGenerator does for MNIST: a random rotation, zoom and
/// shift per image, resampled bilinearly (zero outside the image). Each image's transform is drawn
/// from a counter-based stream keyed by (seed, epoch, position), so results do not depend on thread scheduling.
/// </summary>
public sealed class RandomAffine(double rotationDegrees = 10, double zoom = 0.1, double shift = 0.1)
{
    public double RotationDegrees { get; } = rotationDegrees;
    public double Zoom { get; } = zoom;
    public double Shift { get; } = shift;

    /// <summary>Transforms one single-channel image (height × width) from <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, int height, int width, int seed)
    {
        double angle = Uniform(seed, 0) * RotationDegrees * Math.PI / 180;
        double scale = 1 + Uniform(seed, 1) * Zoom;
        double shiftX = Uniform(seed, 2) * Shift * width;
        double shiftY = Uniform(seed, 3) * Shift * height;
        Transform(source, destination, height, width, angle, scale, shiftX, shiftY);
    }

    /// <summary>Draw <paramref name="index"/> of the image's stream, uniform in [−1, 1): a counter-based hash, so no generator is allocated per image.</summary>
    private static double Uniform(int seed, int index) =>
        (Seeds.Mix(((ulong)(uint)seed << 32) + (ulong)index) >> 11) * (2.0 / (1UL << 53)) - 1;

    /// <summary>
    /// Output pixel (x, y) samples the source at the inverse transform of its position about the image
    /// centre: rotate by −angle, divide by scale, subtract the shift.
    /// </summary>
    public static void Transform(ReadOnlySpan<float> source, Span<float> destination, int height, int width,
        double angle, double scale, double shiftX, double shiftY)
    {
        double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
        double cos = Math.Cos(angle) / scale, sin = Math.Sin(angle) / scale;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double dx = x - cx - shiftX, dy = y - cy - shiftY;
                double sx = cos * dx + sin * dy + cx;
                double sy = -sin * dx + cos * dy + cy;
                destination[y * width + x] = Bilinear(source, height, width, sx, sy);
            }
        }
    }

    private static float Bilinear(ReadOnlySpan<float> image, int height, int width, double x, double y)
    {
        int x0 = (int)Math.Floor(x), y0 = (int)Math.Floor(y);
        double fx = x - x0, fy = y - y0;
        double top = Pixel(image, height, width, x0, y0) * (1 - fx) + Pixel(image, height, width, x0 + 1, y0) * fx;
        double bottom = Pixel(image, height, width, x0, y0 + 1) * (1 - fx) + Pixel(image, height, width, x0 + 1, y0 + 1) * fx;
        return (float)(top * (1 - fy) + bottom * fy);
    }

    private static double Pixel(ReadOnlySpan<float> image, int height, int width, int x, int y) =>
        (uint)x < (uint)width && (uint)y < (uint)height ? image[y * width + x] : 0.0;
}
