using Mnist.Baselines;
using Mnist.Baselines.Gbdt;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.Training;

namespace Mnist.Tests.Baselines.Gbdt;

public class GbdtTests
{
    private static TrainerCatalog Catalog() => new TrainerCatalog().AddBaselines();

    private static GbdtModel Fit(DigitDataView train, Dictionary<string, string> settings, DigitDataView? validation = null, IProgress<TrainingProgress>? progress = null) =>
        (GbdtModel)Catalog().Create("gbdt", settings).Fit(train, validation, progress);

    /// <summary>
    /// Eight 1×2 images of classes 0 and 1 (four each). Pixel 0 of class 0: 10, 20, 30, 200; of
    /// class 1: 40, 100, 150, 250. Pixel 1 is 0 except 90 on two class-1 images.
    /// </summary>
    private static DigitDataView TinyData()
    {
        byte[,] pixels = { { 10, 0 }, { 20, 0 }, { 30, 0 }, { 200, 0 }, { 40, 0 }, { 100, 0 }, { 150, 90 }, { 250, 90 } };
        byte[] labels = [0, 0, 0, 0, 1, 1, 1, 1];
        var floats = new float[16];
        for (int i = 0; i < 8; i++)
            for (int p = 0; p < 2; p++) floats[i * 2 + p] = PixelScale.Table[pixels[i, p]];
        return new DigitDataView(1, 2, floats, labels);
    }

    [Test]
    public void OneSplitTreeMatchesTheHandComputedSplitAndLeafValues()
    {
        // Base scores are the log priors: p = 0.5 for classes 0 and 1 (the absent classes get ~1e-15),
        // so for class 0, g = −0.5 on class-0 images and +0.5 on class-1 images, h = 0.25, G = 0, H = 2.
        // Sorted on pixel 0 the labels are 0 0 0 | 1 1 1 0 1; the best cut, after 30, gives
        // G_L = −1.5, H_L = 0.75, G_R = 1.5, H_R = 1.25 and gain 2.25/1.75 + 2.25/2.25 − 0 ≈ 2.2857
        // (pixel 1's best, 0 | 90, gains only 1/2.5 + 1/1.5 ≈ 1.0667). The threshold sits midway
        // between 30 and 40: left when value ≤ 34. Leaf values (λ = 1, rate 1): 1.5/1.75 and −1.5/2.25.
        var data = TinyData();
        var model = Fit(data, new Dictionary<string, string>
        {
            ["rounds"] = "1", ["max-leaves"] = "2", ["min-samples-leaf"] = "1", ["l2"] = "1", ["learning-rate"] = "1",
            ["feature-fraction"] = "1", ["min-hessian-leaf"] = "0",
        });
        var class0 = model.Trees[0];
        var class1 = model.Trees[1];
        Assert.Multiple(() =>
        {
            Assert.That(model.Rounds, Is.EqualTo(1));
            Assert.That(model.BaseScores[0], Is.EqualTo(MathF.Log(0.5f)).Within(1e-6));
            Assert.That(class0.Feature, Is.EqualTo(new[] { 0 }));
            Assert.That(class0.Threshold, Is.EqualTo(new byte[] { 34 }));
            Assert.That(class0.LeafValues[~class0.Left[0]], Is.EqualTo(1.5 / 1.75).Within(1e-6));
            Assert.That(class0.LeafValues[~class0.Right[0]], Is.EqualTo(-1.5 / 2.25).Within(1e-6));
            Assert.That(class1.Feature, Is.EqualTo(new[] { 0 }));
            Assert.That(class1.Threshold, Is.EqualTo(new byte[] { 34 }));
            Assert.That(class1.LeafValues[~class1.Left[0]], Is.EqualTo(-1.5 / 1.75).Within(1e-6));
            Assert.That(class1.LeafValues[~class1.Right[0]], Is.EqualTo(1.5 / 2.25).Within(1e-6));
        });

        // The builder's own figures for the root: gain and left-side sums.
        var binned = BinnedData.Create(data);
        var builder = new TreeBuilder(binned, new GbdtOptions { MinSamplesLeaf = 1, MinHessianLeaf = 0 });
        float[] gradients = [-0.5f, -0.5f, -0.5f, -0.5f, 0.5f, 0.5f, 0.5f, 0.5f];
        float[] hessians = [0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f, 0.25f];
        int[] features = [0, 1];
        var (histogram, sums) = builder.Histogram([0, 1, 2, 3, 4, 5, 6, 7], gradients, hessians, features);
        var scale = builder.Scale;
        var split = TreeBuilder.FindBestSplit(histogram, features, sums, new GbdtOptions { MinSamplesLeaf = 1 }, scale);
        var referenceSplit = TreeBuilder.FindBestSplit(histogram, features, sums, new GbdtOptions { MinSamplesLeaf = 1 }, scale, reference: true);
        Assert.Multiple(() =>
        {
            Assert.That(split.Feature, Is.EqualTo(0));
            Assert.That(split.Threshold, Is.EqualTo(34));
            // Quantized sums: a unit is Σ|g| / (2^23 − 8) here, so each sum is within a few units (≈ 1e-6) of the exact one.
            Assert.That(split.Gain, Is.EqualTo(2.25 / 1.75 + 2.25 / 2.25).Within(1e-5));
            Assert.That(scale.Gradient(split.LeftSums), Is.EqualTo(-1.5).Within(3 * scale.GradientUnit));
            Assert.That(scale.Hessian(split.LeftSums), Is.EqualTo(0.75).Within(3 * scale.HessianUnit));
            Assert.That(scale.Count(split.LeftSums), Is.EqualTo(3));
            Assert.That(referenceSplit, Is.EqualTo(split));
        });

        // Predictions: an image with pixel 0 ≤ 34 gets class-0 score log 0.5 + 6/7 and class-1 score log 0.5 − 6/7.
        var probabilities = model.PredictProbabilities(data);
        double odds = Math.Exp(2 * 1.5 / 1.75);
        Assert.That(probabilities[0] / probabilities[1], Is.EqualTo(odds).Within(1e-4 * odds));
    }

    [Test]
    public void MinSamplesLeafForbidsSmallerLeaves()
    {
        var model = Fit(TinyData(), new Dictionary<string, string>
        {
            ["rounds"] = "1", ["max-leaves"] = "8", ["min-samples-leaf"] = "4", ["feature-fraction"] = "1",
        });
        // With 8 images and at least 4 per leaf the only possible split is 4 | 4 on pixel 0
        // (10 20 30 40 | 100 150 200 250, gain 1/2 + 1/2), threshold midway between 40 and 100.
        var tree = model.Trees[0];
        Assert.Multiple(() =>
        {
            Assert.That(tree.LeafCount, Is.EqualTo(2));
            Assert.That(tree.Feature, Is.EqualTo(new[] { 0 }));
            Assert.That(tree.Threshold, Is.EqualTo(new byte[] { 69 }));
        });
    }

    [Test]
    public void HistogramSubtractionEqualsTheDirectBuild()
    {
        var images = TestData.Mnist.Train.Take(500);
        var binned = BinnedData.Create(images);
        var random = new Random(7);
        var gradients = Enumerable.Range(0, images.Count).Select(_ => (float)(random.NextDouble() - 0.5)).ToArray();
        var hessians = Enumerable.Range(0, images.Count).Select(_ => (float)(random.NextDouble() * 0.25)).ToArray();
        int[] features = Enumerable.Range(0, binned.FeatureCount).ToArray();
        var all = Enumerable.Range(0, images.Count).ToArray();
        var left = all.Where(i => binned.Column(200)[i] <= 100).ToArray();
        var right = all.Where(i => binned.Column(200)[i] > 100).ToArray();
        var builder = new TreeBuilder(binned, new GbdtOptions());
        var (parent, _) = builder.Histogram(all, gradients, hessians, features);
        var (direct, _) = builder.Histogram(right, gradients, hessians, features);
        TreeBuilder.Subtract(parent, builder.Histogram(left, gradients, hessians, features).Histogram);
        // A feature subset's histogram holds the subset's features alone, in order.
        int[] subset = features.Where(u => u % 3 == 1).ToArray();
        var (partial, _) = builder.Histogram(all, gradients, hessians, subset);
        var (full, _) = builder.Histogram(all, gradients, hessians, features);
        static long[] FeatureBins(long[] histogram, int position) =>
            Enumerable.Range(0, BinnedData.BinCount).Select(b => histogram[BinnedData.Slot(position, b)]).ToArray();
        Assert.Multiple(() =>
        {
            Assert.That(left, Is.Not.Empty);
            Assert.That(right, Is.Not.Empty);
            // Packed integer sums are exact: parent − left is the right side's direct build, bit for bit.
            Assert.That(parent, Is.EqualTo(direct));
            Assert.That(partial, Has.Length.EqualTo(BinnedData.SlotCount(subset.Length)));
            for (int p = 0; p < subset.Length; p += 17)
                Assert.That(FeatureBins(partial, p), Is.EqualTo(FeatureBins(full, subset[p])), $"feature {subset[p]}");
        });

        // Whole fits: subtraction and direct builds grow the same trees.
        var settings = new Dictionary<string, string> { ["rounds"] = "3", ["max-leaves"] = "15", ["min-samples-leaf"] = "5" };
        var subtracting = (GbdtModel)new GbdtTrainer(GbdtOptions.Schema.Parse(settings)).Fit(images);
        var directModel = (GbdtModel)new GbdtTrainer(GbdtOptions.Schema.Parse(settings)) { SubtractHistograms = false }.Fit(images);
        Assert.Multiple(() =>
        {
            for (int t = 0; t < subtracting.Trees.Length; t++)
            {
                Assert.That(subtracting.Trees[t].Feature, Is.EqualTo(directModel.Trees[t].Feature), $"tree {t}");
                Assert.That(subtracting.Trees[t].Threshold, Is.EqualTo(directModel.Trees[t].Threshold), $"tree {t}");
                Assert.That(subtracting.Trees[t].LeafValues, Is.EqualTo(directModel.Trees[t].LeafValues), $"tree {t}");
            }
        });
    }

    [Test]
    public void PackedSumsCarryNothingBetweenFieldsAtTheExtremes()
    {
        // The widest sums a tree can make, |Σq_g| and Σq_h at the fields' capacities, held by one sample or spread
        // over all, for sample counts up to the most the layout allows.
        foreach (int n in new[] { 1, 8, 1000, 54_000, 65_535, 65_536, 262_143 })
        {
            var layout = PackedSums.For(n);
            long gradientCapacity = layout.GradientCapacity, hessianCapacity = layout.HessianCapacity;
            Assert.That(gradientCapacity / n, Is.GreaterThanOrEqualTo(9), $"n={n}: levels for the worst case");
            foreach (long g in new[] { -gradientCapacity, -1, 0, gradientCapacity })
                foreach (long h in new[] { 0, 1, hessianCapacity })
                {
                    long alone = layout.Pack(g, h) + (n - 1) * layout.Pack(0, 0);
                    long spread = n * layout.Pack(g / n, h / n); // n additions of the same sample
                    Assert.That((layout.QuantizedGradient(alone), layout.QuantizedHessian(alone), layout.Count(alone)), Is.EqualTo((g, h, (long)n)), $"n={n}, g={g}, h={h}, one sample");
                    Assert.That((layout.QuantizedGradient(spread), layout.QuantizedHessian(spread), layout.Count(spread)), Is.EqualTo((g / n * n, h / n * n, (long)n)), $"n={n}, g={g}, h={h}, spread");
                }
        }
        // Refused as data the trainer cannot take: the runner reports it in one line, exit code 2.
        Assert.That(() => PackedSums.For(262_144), Throws.TypeOf<IncompatibleDataException>().With.Message.Contains("262,143"));
    }

    [Test]
    public void QuantizedNodeSumsTrackTheExactSums()
    {
        // Stochastic rounding is unbiased: over a node of m samples the quantized sum is off by about √m/2 units, far below the 4√m allowed here; counts are exact.
        var images = TestData.Mnist.Train.Take(2000);
        var binned = BinnedData.Create(images);
        var random = new Random(5);
        var gradients = Enumerable.Range(0, images.Count).Select(_ => (float)(1.6 * random.NextDouble() - 0.8)).ToArray();
        var hessians = Enumerable.Range(0, images.Count).Select(_ => (float)(0.25 * random.NextDouble() * random.NextDouble())).ToArray();
        var builder = new TreeBuilder(binned, new GbdtOptions());
        int[] features = Enumerable.Range(0, binned.FeatureCount).ToArray();
        foreach (int size in new[] { 2000, 500, 60, 7 })
        {
            int[] rows = Enumerable.Range(0, images.Count).Where(_ => random.Next(images.Count) < size).ToArray();
            var (_, sums) = builder.Histogram(rows, gradients, hessians, features);
            var scale = builder.Scale;
            double bound = 4 * Math.Sqrt(rows.Length);
            Assert.Multiple(() =>
            {
                Assert.That(scale.Gradient(sums), Is.EqualTo(rows.Sum(i => (double)gradients[i])).Within(bound * scale.GradientUnit), $"{rows.Length} rows");
                Assert.That(scale.Hessian(sums), Is.EqualTo(rows.Sum(i => (double)hessians[i])).Within(bound * scale.HessianUnit), $"{rows.Length} rows");
                Assert.That(scale.Count(sums), Is.EqualTo(rows.Length));
            });
        }
    }

    [Test]
    public void FastHistogramAndSplitScanMatchTheirReferenceTwins()
    {
        // The sparse-row histogram build vs the dense-column twin, and the AVX-512 split scan vs the
        // scalar one, on real images: random row subsets (root-sized down to leaf-sized), random
        // gradients and hessians, all features and a feature sample, with and without L2.
        var images = TestData.Mnist.Train.Take(2000);
        var binned = BinnedData.Create(images);
        var random = new Random(11);
        var gradients = Enumerable.Range(0, images.Count).Select(_ => (float)(2 * random.NextDouble() - 1)).ToArray();
        var hessians = Enumerable.Range(0, images.Count).Select(_ => (float)random.NextDouble()).ToArray();
        int[] all = Enumerable.Range(0, binned.FeatureCount).ToArray();
        int[] sample = all.Where(_ => random.NextDouble() < 0.3).ToArray();
        var builder = new TreeBuilder(binned, new GbdtOptions());
        int splits = 0;
        foreach (int[] features in new[] { all, sample })
            foreach (int size in new[] { images.Count, 700, 120, 41 })
            {
                int[] rows = Enumerable.Range(0, images.Count).Where(_ => random.Next(images.Count) < size).ToArray();
                var (fast, sums) = builder.Histogram(rows, gradients, hessians, features);
                var (slow, _) = builder.Histogram(rows, gradients, hessians, features, reference: true);
                Assert.That(fast, Is.EqualTo(slow), $"histogram of {rows.Length} rows, {features.Length} features");
                foreach (var options in new[] { new GbdtOptions(), new GbdtOptions { L2 = 0, MinSamplesLeaf = 3 }, new GbdtOptions { MinSamplesLeaf = 200, MinHessianLeaf = 5 } })
                {
                    var split = TreeBuilder.FindBestSplit(fast, features, sums, options, builder.Scale);
                    var twin = TreeBuilder.FindBestSplit(fast, features, sums, options, builder.Scale, reference: true);
                    Assert.That(split, Is.EqualTo(twin), $"split of {rows.Length} rows, {features.Length} features, {options}");
                    if (split.IsValid) splits++;
                }
            }
        Assert.That(splits, Is.GreaterThan(10));
    }

    [Test]
    public void FastEntryFilterMatchesItsReferenceTwin()
    {
        // A tree's feature sample filters and renumbers the sparse entries: the gather + compress path against the scalar one,
        // on real images, for samples from one feature to all of them.
        var binned = BinnedData.Create(TestData.Mnist.Train.Take(1500));
        var random = new Random(3);
        foreach (double fraction in new[] { 0.002, 0.3, 0.9, 1.0 })
        {
            int[] selected = Enumerable.Range(0, binned.FeatureCount).Where(_ => random.NextDouble() < fraction).DefaultIfEmpty(0).ToArray();
            var map = new int[BinnedData.SlotCount(binned.FeatureCount)];
            Array.Fill(map, -1);
            for (int p = 0; p < selected.Length; p++)
                for (int bin = 1; bin < BinnedData.BinCount; bin++) map[BinnedData.Slot(selected[p], bin)] = BinnedData.Slot(p, bin);
            var (fastStarts, fastEntries) = (new int[binned.RowStarts.Length], new int[binned.Entries.Length]);
            var (slowStarts, slowEntries) = (new int[binned.RowStarts.Length], new int[binned.Entries.Length]);
            TreeBuilder.FilterEntries(binned.RowStarts, binned.Entries, map, fastStarts, fastEntries);
            TreeBuilder.FilterEntries(binned.RowStarts, binned.Entries, map, slowStarts, slowEntries, reference: true);
            int kept = slowStarts[^1];
            Assert.Multiple(() =>
            {
                Assert.That(fastStarts, Is.EqualTo(slowStarts), $"{selected.Length} features");
                Assert.That(fastEntries.AsSpan(0, kept).ToArray(), Is.EqualTo(slowEntries.AsSpan(0, kept).ToArray()), $"{selected.Length} features");
                Assert.That(slowEntries.AsSpan(0, kept).ToArray(), Has.All.InRange(0, BinnedData.SlotCount(selected.Length) - 1));
            });
            if (fraction == 1.0) Assert.That(kept, Is.EqualTo(binned.Entries.Length), "all features keep every entry");
        }
    }

    [Test]
    public void LearnsFromThreeThousandRealImages()
    {
        var train = TestData.Mnist.Train.Take(3000);
        var validation = TestData.Mnist.Train.Subset(Enumerable.Range(3000, 500).ToArray());
        var test = TestData.Mnist.Test!.Take(1000);
        var reports = new List<TrainingProgress>();
        var model = Fit(train, new Dictionary<string, string> { ["rounds"] = "20", ["learning-rate"] = "0.3", ["early-stopping-rounds"] = "0" },
            validation, new SynchronousProgress(reports.Add));
        double accuracy = Evaluator.Evaluate(model, test).Accuracy;
        TestContext.Out.WriteLine($"gbdt, 3000 images, 20 rounds: test accuracy {accuracy:P2}, {model.LeafCount} leaves");
        var epochs = model.History!.Epochs;
        Assert.Multiple(() =>
        {
            Assert.That(accuracy, Is.GreaterThanOrEqualTo(0.88), "measured 89.70 %");
            Assert.That(model.Rounds, Is.EqualTo(20));
            Assert.That(epochs, Has.Count.EqualTo(20));
            Assert.That(epochs[^1].TrainLoss, Is.LessThan(epochs[0].TrainLoss));
            Assert.That(epochs.Select(e => e.ValidationAccuracy), Has.All.Not.Null);
            // The running validation scores agree with the model's own predictions.
            Assert.That(epochs[^1].ValidationAccuracy, Is.EqualTo(Evaluator.Evaluate(model, validation).Accuracy));
            Assert.That(reports.Count(r => r.Epoch is not null), Is.EqualTo(20));
            Assert.That(reports.Where(r => r.Epoch is not null).Select(r => r.Stage).First(), Is.EqualTo("round 1/20"));
            Assert.That(reports[^1].Fraction, Is.EqualTo(1.0));
        });
    }

    [Test]
    public void EarlyStoppingKeepsTheBestRound()
    {
        // Validation images whose labels are shifted by one class: the better the fit, the worse the
        // validation loss, so boosting must stop early and keep its best round.
        var train = TestData.Mnist.Train.Take(300);
        var source = TestData.Mnist.Train.Subset(Enumerable.Range(300, 300).ToArray()).Materialize();
        var shifted = new DigitDataView(28, 28, source.ContiguousPixels.ToArray(), source.GetLabels().Select(l => (byte)((l + 1) % 10)).ToArray());
        var model = Fit(train, new Dictionary<string, string> { ["rounds"] = "200", ["early-stopping-rounds"] = "3" }, shifted);
        var epochs = model.History!.Epochs;
        double bestLoss = epochs.Min(e => e.ValidationLoss!.Value);
        Assert.Multiple(() =>
        {
            Assert.That(model.StopReason, Does.StartWith("early stopping"));
            Assert.That(model.BestRound, Is.LessThan(200));
            Assert.That(epochs, Has.Count.EqualTo(model.BestRound + 3));
            Assert.That(model.Rounds, Is.EqualTo(model.BestRound));
            Assert.That(epochs[model.BestRound - 1].ValidationLoss, Is.EqualTo(bestLoss));
            Assert.That(Evaluator.Evaluate(model, shifted).LogLoss, Is.EqualTo(bestLoss).Within(1e-5));
        });
    }

    [Test]
    public void SaveThenLoadGivesBitIdenticalProbabilities()
    {
        var model = Fit(TestData.Mnist.Train.Take(1000), new Dictionary<string, string> { ["rounds"] = "5", ["max-leaves"] = "20" });
        var (loaded, _) = BaselineTestData.SaveAndLoad(model);
        var data = TestData.Mnist.Test!.Take(200);
        Assert.Multiple(() =>
        {
            Assert.That(loaded.TrainerName, Is.EqualTo("gbdt"));
            Assert.That(loaded.HasCalibratedProbabilities, Is.True);
            Assert.That(loaded.PredictProbabilities(data), Is.EqualTo(model.PredictProbabilities(data)));
            Assert.That(loaded.Hyperparameters["max-leaves"], Is.EqualTo(20.0));
            Assert.That(((GbdtModel)loaded).Rounds, Is.EqualTo(5));
        });
    }

    [Test]
    public void MalformedTreesAreRejectedOnLoad()
    {
        Assert.Multiple(() =>
        {
            // A child pointing back to its parent, a leaf used twice, a pixel outside the image, a missing leaf.
            Assert.That(() => RoundTrip(new RegressionTree([0, 1], [5, 5], [1, ~0], [0, ~1], [1f, 2f, 3f])), Throws.InstanceOf<InvalidDataException>());
            Assert.That(() => RoundTrip(new RegressionTree([0], [5], [~0], [~0], [1f, 2f])), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("two parents"));
            Assert.That(() => RoundTrip(new RegressionTree([4], [5], [~0], [~1], [1f, 2f])), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("pixel 4"));
            Assert.That(() => RoundTrip(new RegressionTree([0], [5], [~0], [~1], [1f])), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("leaves"));
            Assert.That(() => RoundTrip(new RegressionTree([0], [5], [~0], [~1], [1f, float.NaN])), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("non-finite"));
            Assert.That(RoundTrip(new RegressionTree([0], [5], [~1], [~0], [1f, 2f])).Rounds, Is.EqualTo(1));
        });

        // A truncated payload is an error as well.
        var model = new GbdtModel(4, new float[10], Enumerable.Range(0, 10).Select(_ => new RegressionTree([], [], [], [], [0.5f])).ToArray(), new GbdtOptions());
        byte[] payload = Payload(model);
        Assert.That(() => GbdtModel.Load(new BinaryReader(new MemoryStream(payload[..^3]))), Throws.InstanceOf<EndOfStreamException>().Or.InstanceOf<InvalidDataException>());
    }

    [Test]
    public void SameSeedAndAnyThreadCountGiveIdenticalModels()
    {
        var train = TestData.Mnist.Train.Take(1500);
        var data = TestData.Mnist.Test!.Take(300);
        var settings = new Dictionary<string, string> { ["rounds"] = "4", ["feature-fraction"] = "0.5", ["seed"] = "5" };
        float[] one, two, again, otherSeed;
        using (ComputeThreads.Use(1)) one = Fit(train, settings).PredictProbabilities(data);
        using (ComputeThreads.Use(2))
        {
            two = Fit(train, settings).PredictProbabilities(data);
            again = Fit(train, settings).PredictProbabilities(data);
            settings["seed"] = "6";
            otherSeed = Fit(train, settings).PredictProbabilities(data);
        }
        Assert.Multiple(() =>
        {
            Assert.That(two, Is.EqualTo(one));
            Assert.That(again, Is.EqualTo(two));
            Assert.That(otherSeed, Is.Not.EqualTo(two));
        });
    }

    [Test]
    public void HyperparametersAreTheDeclaredOnes() =>
        // Unknown and out-of-range values: BaselinesCatalogTests.HyperparametersAreValidatedByName.
        Assert.That(Catalog().Create("gbdt").Hyperparameters.Keys, Is.EquivalentTo(new[]
        {
            "rounds", "learning-rate", "max-leaves", "min-samples-leaf", "min-hessian-leaf", "l2", "feature-fraction", "early-stopping-rounds", "seed",
        }));

    [Test]
    public void CancellationStopsTheFit()
    {
        using var cancellation = new CancellationTokenSource();
        cancellation.Cancel();
        var trainer = Catalog().Create("gbdt");
        Assert.That(() => trainer.Fit(TestData.Mnist.Train.Take(200), cancellationToken: cancellation.Token), Throws.InstanceOf<OperationCanceledException>());
    }

    /// <summary>The full-MNIST measurement behind the defaults (minutes; run by hand).</summary>
    [Test, Explicit("Full MNIST: a few minutes on 2 cores")]
    public void FullMnistWithDefaults()
    {
        var (trainIndices, validationIndices) = Splits.StratifiedTrainValidation(TestData.Mnist.Train, 0.1, seed: 42);
        var train = TestData.Mnist.Train.Subset(trainIndices);
        var validation = TestData.Mnist.Train.Subset(validationIndices);
        var test = TestData.Mnist.Test!;
        var watch = System.Diagnostics.Stopwatch.StartNew();
        var model = Fit(train, [], validation);
        double fitSeconds = watch.Elapsed.TotalSeconds;
        watch.Restart();
        var testMetrics = Evaluator.Evaluate(model, test);
        double predictSeconds = watch.Elapsed.TotalSeconds;
        double trainAccuracy = Evaluator.Evaluate(model, train).Accuracy;
        double validationAccuracy = Evaluator.Evaluate(model, validation).Accuracy;
        TestContext.Out.WriteLine($"gbdt defaults: {model.Rounds} rounds kept ({model.History!.Epochs.Count} run), {model.LeafCount} leaves; " +
            $"train {trainAccuracy:P2}, validation {validationAccuracy:P2}, test {testMetrics.Accuracy:P2} (log-loss {testMetrics.LogLoss:F4}); " +
            $"fit {fitSeconds:F1} s, predict 10k {predictSeconds:F2} s");
        // Times are printed, not asserted: speed is measured by the runner and the benchmarks.
        Assert.That(testMetrics.Accuracy, Is.GreaterThanOrEqualTo(0.975));
    }

    private static GbdtModel RoundTrip(RegressionTree tree)
    {
        var trees = Enumerable.Range(0, 10).Select(c => c == 3 ? tree : new RegressionTree([], [], [], [], [0f])).ToArray();
        var model = new GbdtModel(4, new float[10], trees, new GbdtOptions());
        using var reader = new BinaryReader(new MemoryStream(Payload(model)));
        return GbdtModel.Load(reader);
    }

    private static byte[] Payload(GbdtModel model) => BaselineTestData.Payload(model);
}
