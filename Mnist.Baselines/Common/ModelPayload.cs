using System.Runtime.InteropServices;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Baselines.Common;

/// <summary>
/// What the baseline models' payloads share: the head (format version, hyperparameters as the schema's JSON,
/// pixel count), stored images (k-NN's training set, kernel-svm's support vectors) and arrays of finite numbers.
/// </summary>
internal static class ModelPayload
{
    /// <summary>The storage byte before stored images.</summary>
    private enum ImageStorage : byte { Floats = 0, Bytes = 1 }

    public static void WriteHead<TOptions>(BinaryWriter writer, int version, HyperparameterSchema<TOptions> schema, TOptions options, int pixelCount)
        where TOptions : class
    {
        writer.Write(version);
        schema.Write(writer, options);
        writer.Write(pixelCount);
    }

    /// <summary>Reads what <see cref="WriteHead"/> wrote; a version other than <paramref name="version"/> or a pixel count outside 1..<paramref name="maxPixels"/> is refused.</summary>
    public static (TOptions Options, int PixelCount) ReadHead<TOptions>(BinaryReader reader, int version, string trainerName,
        HyperparameterSchema<TOptions> schema, int maxPixels) where TOptions : class
    {
        int stored = reader.ReadInt32();
        if (stored != version) throw new InvalidDataException($"Unsupported {trainerName} payload version {stored}.");
        var options = schema.Read(reader);
        int pixelCount = reader.ReadInt32();
        if (pixelCount < 1 || pixelCount > maxPixels) throw new InvalidDataException($"Invalid pixel count {pixelCount} (1..{maxPixels}).");
        return (options, pixelCount);
    }

    /// <summary>
    /// A storage byte, then the values: as bytes (value·255) when <paramref name="mayUseBytes"/> and every value is
    /// exactly byte/255 (raw pixels, as every loader produces), else as little-endian floats.
    /// </summary>
    public static void WriteImages(BinaryWriter writer, ReadOnlySpan<float> values, bool mayUseBytes = true)
    {
        bool asBytes = mayUseBytes && PixelScale.IsBytePixels(values);
        writer.Write((byte)(asBytes ? ImageStorage.Bytes : ImageStorage.Floats));
        if (asBytes)
        {
            var bytes = new byte[values.Length];
            for (int i = 0; i < bytes.Length; i++) bytes[i] = (byte)MathF.Round(values[i] * 255f);
            writer.Write(bytes);
        }
        else
        {
            WriteFloats(writer, values);
        }
    }

    /// <summary>The storage byte <see cref="WriteImages"/> wrote: whether the values that follow are bytes.</summary>
    public static bool ReadImagesAsBytes(BinaryReader reader)
    {
        var storage = (ImageStorage)reader.ReadByte();
        return storage switch
        {
            ImageStorage.Bytes => true,
            ImageStorage.Floats => false,
            _ => throw new InvalidDataException($"Unknown storage kind {(byte)storage}."),
        };
    }

    /// <summary>The size in the payload of <paramref name="count"/> values stored as bytes or floats.</summary>
    public static long StoredSize(long count, bool asBytes) => count * (asBytes ? 1 : sizeof(float));

    /// <summary>Reads <paramref name="count"/> values after <see cref="ReadImagesAsBytes"/>; a non-finite float is refused.</summary>
    public static float[] ReadImages(BinaryReader reader, long count, bool asBytes)
    {
        if (asBytes)
        {
            byte[] bytes = reader.ReadBytes((int)count);
            if (bytes.Length != count) throw new EndOfStreamException("The payload ends inside the stored images.");
            var values = new float[count];
            PixelScale.ToUnit(bytes, values);
            return values;
        }
        return ReadFiniteFloats(reader, count, "stored image value");
    }

    /// <summary>Raw little-endian floats, as <see cref="BinaryWriter.Write(float)"/> would write them one by one.</summary>
    public static void WriteFloats(BinaryWriter writer, ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Model files are little-endian.");
        writer.Write(MemoryMarshal.AsBytes(values));
    }

    /// <summary>Reads <paramref name="count"/> floats written by <see cref="WriteFloats"/>; a non-finite one is refused, named <paramref name="what"/>.</summary>
    public static float[] ReadFiniteFloats(BinaryReader reader, long count, string what)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Model files are little-endian.");
        var values = new float[count];
        Span<byte> target = MemoryMarshal.AsBytes(values.AsSpan());
        if (reader.Read(target) != target.Length) throw new EndOfStreamException($"The payload ends inside the {what}s.");
        for (long i = 0; i < values.Length; i++)
            if (!float.IsFinite(values[i])) throw new InvalidDataException($"{what} {i} is non-finite ({values[i]}).");
        return values;
    }

    /// <summary>Reads <paramref name="count"/> doubles (<see cref="BinaryWriter.Write(double)"/>); a non-finite one is refused, named <paramref name="what"/>.</summary>
    public static double[] ReadFiniteDoubles(BinaryReader reader, int count, string what)
    {
        var values = new double[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = reader.ReadDouble();
            if (!double.IsFinite(values[i])) throw new InvalidDataException($"{what} {i} is non-finite ({values[i]}).");
        }
        return values;
    }
}
