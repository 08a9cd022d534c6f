using System.Diagnostics;
using System.Globalization;

namespace Mnist.Baselines.Gbdt;

/// <summary>
/// Where a fit's time went, in <see cref="Stopwatch"/> ticks. The tree phases are summed over the
/// worker threads (thread-seconds), validation scoring included; binning and gradients are wall time.
/// </summary>
public sealed class GbdtPhaseTimes
{
    public long Binning { get; internal set; }
    public long Setup { get; internal set; }
    public long RootHistograms { get; internal set; }
    public long Histograms { get; internal set; }
    public long Subtraction { get; internal set; }
    public long SplitSearch { get; internal set; }
    public long Partition { get; internal set; }
    public long LeafScores { get; internal set; }
    public long Gradients { get; internal set; }
    public long Validation { get; internal set; }

    internal void AddTreePhases(GbdtPhaseTimes other)
    {
        Setup += other.Setup;
        RootHistograms += other.RootHistograms;
        Histograms += other.Histograms;
        Subtraction += other.Subtraction;
        SplitSearch += other.SplitSearch;
        Partition += other.Partition;
        LeafScores += other.LeafScores;
        Validation += other.Validation;
    }

    private static string Seconds(long ticks) => (ticks / (double)Stopwatch.Frequency).ToString("0.00", CultureInfo.InvariantCulture);

    /// <summary>One line: the tree phases in thread-seconds, then binning and gradients in seconds.</summary>
    public override string ToString() =>
        $"tree phases (thread-s): setup (feature sample, quantization) {Seconds(Setup)}, root histograms {Seconds(RootHistograms)}, child histograms {Seconds(Histograms)}, subtraction {Seconds(Subtraction)}, split search {Seconds(SplitSearch)}, "
        + $"partition {Seconds(Partition)}, leaf scores {Seconds(LeafScores)}, validation scores {Seconds(Validation)}; wall s: binning {Seconds(Binning)}, gradients {Seconds(Gradients)}";
}
