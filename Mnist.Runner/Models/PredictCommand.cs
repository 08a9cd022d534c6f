using Mnist.Core.Numerics;
using System.CommandLine;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using Mnist.Core.Training.Ensembles;
using Mnist.Runner.Common;
using Spectre.Console;

namespace Mnist.Runner.Models;

/// <summary>
/// <c>mnist predict</c>: loads a model file and predicts a Kaggle CSV (labelled or not) or an MNIST
/// IDX images file, writing <c>ImageId,Label</c> rows (ImageId 1..N in input order); prints the
/// accuracy when the input has labels (and an ensemble's members' accuracies).
/// </summary>
public static class PredictCommand
{
    public const string DefaultOutput = "predictions.csv";

    public static Command Create(RunnerEnvironment environment)
    {
        var set = new CommandOptions();
        var model = set.Add(new Option<string?>("--model") { Description = "A model file written by 'mnist train'", HelpName = "FILE" });
        var input = set.Add(new Option<string?>("--input")
        {
            Description = "Images to predict: a Kaggle CSV (with or without a label column) or an MNIST IDX images file, plain or .gz",
            HelpName = "FILE",
        });
        var labels = set.Add(new Option<string?>("--labels")
        {
            Description = "IDX labels for an IDX --input (default: the matching *-labels-idx1-ubyte[.gz] beside it, if any)",
            HelpName = "FILE",
        });
        var tta = set.Add(new Option<int?>("--tta")
        {
            Description = $"Predict with test-time augmentation: the mean over each image and N seeded affine variants (0 = off; 1..{EnsembleMembers.MaxTta}), " +
                          "for a network or an ensemble's networks, in place of the model's own setting",
            HelpName = "N",
        });
        var output = set.Add(new Option<string?>("--out") { Description = $"The predictions CSV (default: {DefaultOutput})", HelpName = "FILE" });
        var threads = set.Add(CommonOptions.Threads());
        var force = set.Add(CommonOptions.Force("Overwrite an existing predictions file"));
        set.Add(CommonOptions.Config());

        var command = set.AddTo(new Command("predict", "Predict images with a saved model file"));
        command.SetAction(parseResult => CommandExecution.Run(environment, () => Run(environment,
            parseResult.GetValue(model), parseResult.GetValue(input), parseResult.GetValue(labels), parseResult.GetValue(output),
            parseResult.GetValue(tta), parseResult.GetValue(threads), parseResult.GetValue(force))));
        return command;
    }

    private static void Run(RunnerEnvironment environment, string? modelOption, string? inputOption, string? labelsOption, string? outOption, int? tta, int? threads, bool force)
    {
        string modelPath = Path.GetFullPath(Require.File(modelOption, "--model"), environment.CurrentDirectory);
        string inputPath = Path.GetFullPath(Require.File(inputOption, "--input"), environment.CurrentDirectory);
        string? labelsPath = labelsOption is null ? null : Path.GetFullPath(labelsOption, environment.CurrentDirectory);
        string outPath = Path.GetFullPath(outOption ?? DefaultOutput, environment.CurrentDirectory);
        Require.Threads(threads);
        if (tta is < 0 or > EnsembleMembers.MaxTta) throw new UsageException($"--tta must be between 0 and {EnsembleMembers.MaxTta}, not {tta}");
        OutputLocation.CheckFile(outPath, force, "--out");
        ModelFitting.ApplyThreads(threads);

        var trained = ModelFile.Load(modelPath, environment.Catalog);
        if (tta is int variants)
            trained = trained.WithTestTimeAugmentation(variants)
                      ?? throw new UsageException($"--tta: the {trained.TrainerName} model in {modelPath} has no test-time augmentation (networks and ensembles with a network have)");
        var images = ReadImages(inputPath, labelsPath);
        environment.Cancellation.ThrowIfCancellationRequested();

        float[] probabilities;
        IReadOnlyList<float[]> memberProbabilities;
        try
        {
            (probabilities, memberProbabilities) = ModelFitting.PredictWithMembers(trained, images, environment.Cancellation);
        }
        catch (IncompatibleDataException e)
        {
            // The model cannot take these images (another image size, say): bad input, not a crash.
            throw new UsageException($"{inputPath}: the {trained.TrainerName} model in {modelPath} cannot predict these {images.Height}×{images.Width} images: {e.Message}");
        }
        int[] predicted = Kernels.ArgMaxRows(probabilities, DigitDataView.ClassCount);
        KaggleSubmission.Write(outPath, predicted);

        var console = environment.Console;
        console.WriteLine($"Model: {trained.TrainerName} ({modelPath})");
        console.WriteLine($"Input: {inputPath}: {images.Count} images{(images.HasLabels ? ", labelled" : "")}");
        if (tta is int n) console.WriteLine(n == 0 ? "Test-time augmentation: off" : $"Test-time augmentation: each image and {n} seeded affine variants");
        if (images.HasLabels)
        {
            int[] truth = ModelFitting.Labels(images);
            // An ensemble's members alone first, from the predictions it combined.
            for (int i = 0; i < memberProbabilities.Count; i++)
            {
                var member = Evaluator.FromPredictions(truth, Kernels.ArgMaxRows(memberProbabilities[i], DigitDataView.ClassCount));
                console.WriteLine($"Member {i + 1} ({trained.Members[i].TrainerName}): {MarkdownReportWriter.Percent(member.Accuracy)} ({member.Correct} of {member.Count})");
            }
            var metrics = Evaluator.FromPredictions(truth, predicted);
            console.WriteLine($"Accuracy: {MarkdownReportWriter.Percent(metrics.Accuracy)} ({metrics.Correct} of {metrics.Count})");
        }
        console.WriteLine($"Wrote {outPath} ({predicted.Length} rows)");
    }

    /// <summary>An IDX images file (by its magic number) or a Kaggle CSV; IDX labels from --labels or the matching file beside it.</summary>
    internal static DigitDataView ReadImages(string inputPath, string? labelsPath)
    {
        switch (IdxMagic(inputPath))
        {
            case 0x00000803:
                labelsPath ??= MatchingLabels(inputPath);
                return MnistIdxLoader.Load(inputPath, labelsPath);
            case 0x00000801:
                throw new UsageException($"{inputPath} is an IDX labels file; pass the images file as --input and this one as --labels");
            default:
                if (labelsPath is not null) throw new UsageException("--labels only applies to an IDX images --input; a CSV carries its labels in its 'label' column");
                return KaggleCsvReader.Read(inputPath);
        }
    }

    /// <summary>The first four (decompressed) bytes as a big-endian number, or -1 when the file is shorter or unreadable as such.</summary>
    private static int IdxMagic(string path)
    {
        using var stream = InputFile.Open(path);
        Span<byte> head = stackalloc byte[4];
        try
        {
            int read = stream.ReadAtLeast(head, 4, throwOnEndOfStream: false);
            return read < 4 ? -1 : (head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3];
        }
        catch (InvalidDataException)
        {
            return -1; // a corrupt gzip: the CSV reader reports it with the file name
        }
        catch (IOException e)
        {
            throw new DataFormatException(path, $"cannot read: {e.Message}", inner: e);
        }
    }

    private static string? MatchingLabels(string imagesPath)
    {
        string folder = Path.GetDirectoryName(imagesPath)!;
        string name = Path.GetFileName(imagesPath);
        foreach (var (images, labels) in new[] { ("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1") })
        {
            if (!name.Contains(images, StringComparison.Ordinal)) continue;
            string stem = name.Replace(images, labels, StringComparison.Ordinal);
            if (stem.EndsWith(".gz", StringComparison.Ordinal)) stem = stem[..^3];
            foreach (string candidate in new[] { stem, stem + ".gz" })
            {
                string path = Path.Combine(folder, candidate);
                if (File.Exists(path)) return path;
            }
        }
        return null;
    }
}
