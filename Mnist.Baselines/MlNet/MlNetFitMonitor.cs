using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Microsoft.ML;
using Microsoft.ML.Runtime;
using Mnist.Core.Training;

namespace Mnist.Baselines.MlNet;

/// <summary>
/// Watches one ML.NET fit: turns ML.NET's log into progress (one-vs-all learners, the latest message,
/// elapsed time, twice a second) and turns our cancellation into ML.NET's.
/// </summary>
/// <remarks>
/// ML.NET checks its context between iterations (L-BFGS steps, trees, boosting rounds) but offers no
/// public way to cancel it: its MLContext.CancelExecution is internal, so it is found by reflection.
/// Where that fails, <see cref="CancellableDataView"/> still stops any trainer that reads its data again.
/// </remarks>
internal sealed class MlNetFitMonitor : IDisposable
{
    private static readonly MethodInfo? CancelExecution =
        typeof(MLContext).GetMethod("CancelExecution", BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public, Type.EmptyTypes);

    private readonly MLContext _ml;
    private readonly int _learners;
    private readonly IProgress<TrainingProgress>? _progress;
    private readonly CancellationToken _cancellationToken;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Lock _lock = new();
    private readonly Timer? _timer;
    private readonly CancellationTokenRegistration _registration;
    private string _message = "starting";
    private int _learner;

    public MlNetFitMonitor(MLContext ml, int oneVersusAllLearners, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        _ml = ml;
        _learners = oneVersusAllLearners;
        _progress = progress;
        _cancellationToken = cancellationToken;
        ml.Log += OnLog;
        _registration = cancellationToken.Register(() => CancelExecution?.Invoke(ml, null));
        if (progress is not null) _timer = new Timer(_ => Report(), null, 500, 500);
    }

    /// <summary>Runs ML.NET's fit; after cancellation any exception it ends with becomes <see cref="OperationCanceledException"/>.</summary>
    public T Run<T>(Func<T> fit)
    {
        try
        {
            return fit();
        }
        catch (Exception e) when (_cancellationToken.IsCancellationRequested && e is not OperationCanceledException { CancellationToken.IsCancellationRequested: true })
        {
            throw new OperationCanceledException("The ML.NET fit was cancelled.", e, _cancellationToken);
        }
    }

    private void OnLog(object? sender, LoggingEventArgs e)
    {
        if (e.Kind < ChannelMessageKind.Info || string.IsNullOrWhiteSpace(e.RawMessage)) return;
        lock (_lock)
        {
            const string learnerPrefix = "Training learner ";
            if (_learners > 0 && e.RawMessage.StartsWith(learnerPrefix, StringComparison.Ordinal)
                && int.TryParse(e.RawMessage.AsSpan(learnerPrefix.Length), NumberStyles.Integer, CultureInfo.InvariantCulture, out int learner))
                _learner = learner;
            _message = e.RawMessage.Trim();
        }
    }

    private void Report()
    {
        string stage;
        double fraction;
        lock (_lock)
        {
            fraction = _learners > 0 ? (double)_learner / _learners : 0;
            string learner = _learners > 0 ? $"learner {_learner + 1}/{_learners}, " : "";
            stage = $"ML.NET {learner}{_clock.Elapsed.TotalSeconds:0} s: {_message}";
        }
        _progress?.Report(new TrainingProgress(fraction, stage));
    }

    public void Dispose()
    {
        _timer?.Dispose();
        _registration.Dispose();
        _ml.Log -= OnLog;
    }
}
