using Mnist.Core.Training;

namespace Mnist.Cnn.Augmentation;

/// <summary>
/// On-the-fly augmentation as Keras' ImageDataGenerator does for MNIST: a random rotation, zoom and
/// shift per image, optionally followed by an <see cref="ElasticDistortion"/>, resampled bilinearly once (zero outside
/// the image). Each image's transform is drawn from a counter-based stream keyed by (seed, epoch, position), so
/// results do not depend on thread scheduling.
/// </summary>
public sealed class RandomAffine(double rotationDegrees = 10, double zoom = 0.1, double shift = 0.1, ElasticDistortion? elastic = null)
{
    /// <summary>Draws 0–3 of an image's stream are the affine parameters; the elastic noise follows them.</summary>
    private const int FirstElasticDraw = 4;
    [ThreadStatic] private static float[]? t_fields;

    public double RotationDegrees { get; } = rotationDegrees;
    public double Zoom { get; } = zoom;
    public double Shift { get; } = shift;
    public ElasticDistortion? Elastic { get; } = elastic;

    /// <summary>Transforms one single-channel image (height × width) from <paramref name="source"/> into <paramref name="destination"/>.</summary>
    public void Apply(ReadOnlySpan<float> source, Span<float> destination, int height, int width, int seed)
    {
        double angle = Uniform(seed, 0) * RotationDegrees * Math.PI / 180;
        double scale = 1 + Uniform(seed, 1) * Zoom;
        double shiftX = Uniform(seed, 2) * Shift * width;
        double shiftY = Uniform(seed, 3) * Shift * height;
        if (Elastic is null)
        {
            Transform(source, destination, height, width, angle, scale, shiftX, shiftY);
            return;
        }
        int pixels = height * width;
        var fields = t_fields is { } f && f.Length >= 2 * pixels ? f : t_fields = new float[2 * pixels];
        var dx = fields.AsSpan(0, pixels);
        var dy = fields.AsSpan(pixels, pixels);
        Elastic.Fill(dx, dy, height, width, seed, FirstElasticDraw);
        Transform(source, destination, height, width, angle, scale, shiftX, shiftY, dx, dy);
    }

    /// <summary>Draw <paramref name="index"/> of the image's stream, uniform in [−1, 1): a counter-based hash, so no generator is allocated per image.</summary>
    internal static double Uniform(int seed, int index) =>
        (Seeds.Mix(((ulong)(uint)seed << 32) + (ulong)index) >> 11) * (2.0 / (1UL << 53)) - 1;

    /// <summary>
    /// Output pixel (x, y) samples the source at the inverse transform of its position about the image
    /// centre: rotate by −angle, divide by scale, subtract the shift. With displacement fields (height × width
    /// each), the position is first moved by (dx, dy): the elastic distortion acts on the affine-transformed image.
    /// </summary>
    public static void Transform(ReadOnlySpan<float> source, Span<float> destination, int height, int width,
        double angle, double scale, double shiftX, double shiftY, ReadOnlySpan<float> dx = default, ReadOnlySpan<float> dy = default)
    {
        bool displaced = !dx.IsEmpty;
        if (displaced && (dx.Length != height * width || dy.Length != height * width))
            throw new ArgumentException("Each displacement field must hold one value per pixel.", nameof(dx));
        double cx = (width - 1) / 2.0, cy = (height - 1) / 2.0;
        double cos = Math.Cos(angle) / scale, sin = Math.Sin(angle) / scale;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                double px = displaced ? x + dx[y * width + x] : x, py = displaced ? y + dy[y * width + x] : y;
                double rx = px - cx - shiftX, ry = py - cy - shiftY;
                double sx = cos * rx + sin * ry + cx;
                double sy = -sin * rx + cos * ry + cy;
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
