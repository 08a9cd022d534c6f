namespace Mnist.Core.Data;

/// <summary>Loads an MNIST images file with its labels file into a <see cref="DigitDataView"/>.</summary>
internal static class MnistIdxLoader
{
    public static DigitDataView Load(string imagesPath, string? labelsPath)
    {
        var images = IdxReader.ReadImages(imagesPath);
        byte[]? labels = null;
        if (labelsPath is not null)
        {
            labels = IdxReader.ReadLabels(labelsPath);
            if (labels.Length != images.Count)
                throw new DataFormatException(labelsPath, $"{labels.Length} labels but {Path.GetFileName(imagesPath)} holds {images.Count} images", "header");
        }
        var pixels = new float[images.Pixels.Length];
        PixelScale.ToUnit(images.Pixels, pixels);
        var ids = new int[images.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = i + 1;
        return new DigitDataView(images.Rows, images.Columns, pixels, labels, ids);
    }
}
