using System.Diagnostics;
using Mnist.Baselines.Common;
using Mnist.Baselines.Pca;
using Mnist.Core.Data;
using Mnist.Core.Training;

namespace Mnist.Baselines.Knn;

/// <summary>
/// Exact k-nearest neighbours (squared Euclidean distance) over the raw pixels or, with
/// <see cref="KnnOptions.PcaComponents"/> &gt; 0, over their projection onto the leading principal components of
/// the training set. Fitting only stores the (projected) training set; the search is in <see cref="KnnModel"/>.
/// The validation set is not used (k is fixed; scoring it here would only repeat the caller's evaluation).
/// </summary>
public sealed class KnnTrainer(KnnOptions options) : SchemaTrainer<KnnOptions>(TrainerName, KnnOptions.Schema, options)
{
    public const string TrainerName = "knn";

    public KnnTrainer() : this(new KnnOptions()) { }

    /// <summary>PCA needs at least as many pixels as components.</summary>
    public override void CheckImageSize(int height, int width)
    {
        if (Options.PcaComponents > height * width)
            throw new IncompatibleDataException($"pca-components = {Options.PcaComponents} exceeds the {height * width} pixels of {height}×{width} images");
    }

    private protected override ITrainedModel FitChecked(DigitDataView train, DigitDataView? validation, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        int n = train.Count, d = train.PixelCount;
        var pixels = new float[(long)n * d];
        train.CopyPixels(0, n, pixels);
        byte[] labels = train.GetLabels();

        PcaProjection? pca = null;
        float[] reference = pixels;
        CheckImageSize(train.Height, train.Width);
        if (Options.PcaComponents > 0)
        {
            if (n < 2) throw new ArgumentException("PCA needs at least two training images.", nameof(train));
            progress?.Report(new TrainingProgress(0.1, $"PCA: top {Options.PcaComponents} components of the {d}×{d} covariance"));
            pca = PcaProjection.Fit(pixels, n, d, Options.PcaComponents, KnnOptions.PcaSeed, cancellationToken);
            reference = new float[(long)n * pca.Components];
            pca.Project(pixels, n, reference);
        }
        cancellationToken.ThrowIfCancellationRequested();
        var model = new KnnModel(Options, d, pca, reference, labels);

        var history = model.History = SingleFitHistory(n, clock.Elapsed.TotalSeconds);
        progress?.Report(new TrainingProgress(1.0, $"stored {n} training images ({(pca is null ? $"{d} pixels" : $"{pca.Components} PCA components")})", history.Epochs[0]));
        return model;
    }

}
