using System.Diagnostics;
using System.Globalization;
using Mnist.Core.Training;
using Spectre.Console;

namespace Mnist.Runner.Compare;

/// <summary>Receives one trainer's progress and the runner's own stages (evaluating, done).</summary>
public interface ITrainerProgress : IProgress<TrainingProgress>
{
    void Start();
    /// <summary>A runner stage after fitting, e.g. "evaluating".</summary>
    void SetStage(string stage);
    void Complete(string summary);
    void Fail(string reason);
}

/// <summary>
/// Shows the progress of every trainer: a live Spectre.Console display with one task per trainer
/// when the console is interactive, or plain lines (one per ~10% or per epoch, throttled) otherwise.
/// </summary>
public static class FitProgress
{
    public static T Run<T>(IAnsiConsole console, bool live, IReadOnlyList<string> trainers, Func<IReadOnlyList<ITrainerProgress>, T> body)
    {
        // A terminal too short for one row per trainer (e.g. a pty without a size) would only show "…".
        if (live && console.Profile.Height < trainers.Count + 2) live = false;
        if (!live)
            return body(trainers.Select(t => (ITrainerProgress)new PlainProgress(console, t)).ToList());
        // Rows wider than the terminal make Spectre replace the whole display with "…": keep each
        // description within what the bar (20), percentage, elapsed time and spinner leave over.
        int descriptionWidth = Math.Max(20, console.Profile.Width - 41);
        return console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 20 }, new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var sinks = trainers.Select(t => (ITrainerProgress)new LiveProgress(
                    context.AddTask(Describe(t, "waiting", descriptionWidth), autoStart: false, maxValue: 100), t, descriptionWidth)).ToList();
                return body(sinks);
            });
    }

    /// <summary>"trainer stage" as markup, the plain text cut to <paramref name="width"/> characters.</summary>
    internal static string Describe(string trainer, string stage, int width)
    {
        if (trainer.Length >= width) return $"[bold]{Markup.Escape(trainer[..Math.Max(1, width - 1)])}…[/]";
        int room = width - trainer.Length - 1;
        string shown = stage.Length <= room ? stage : stage[..Math.Max(0, room - 1)] + "…";
        return $"[bold]{Markup.Escape(trainer)}[/] {Markup.Escape(shown)}";
    }

    private sealed class LiveProgress(ProgressTask task, string trainer, int width) : ITrainerProgress
    {
        private string Describe(string trainerName, string stage) => FitProgress.Describe(trainerName, stage, width);

        public void Start()
        {
            task.Description = Describe(trainer, "starting");
            task.StartTask();
        }

        public void Report(TrainingProgress value)
        {
            task.Value = Math.Clamp(value.Fraction, 0, 1) * 100;
            task.Description = Describe(trainer, value.Stage);
        }

        public void SetStage(string stage) => task.Description = Describe(trainer, stage);

        public void Complete(string summary)
        {
            task.Value = task.MaxValue;
            task.Description = Describe(trainer, summary);
            task.StopTask();
        }

        public void Fail(string reason)
        {
            task.Description = Describe(trainer, reason);
            task.StopTask();
        }
    }

    /// <summary>Plain lines for logs and redirected output: every 10% of the fit, and epochs at most every half second.</summary>
    internal sealed class PlainProgress(IAnsiConsole console, string trainer) : ITrainerProgress
    {
        private readonly Lock _lock = new();
        private readonly Stopwatch _sinceLine = new();
        private double _nextFraction = 0.1;

        public void Start()
        {
            _sinceLine.Restart();
            Line("started");
        }

        public void Report(TrainingProgress value)
        {
            lock (_lock)
            {
                bool crossed = value.Fraction >= _nextFraction - 1e-9;
                // A milestone (an epoch done, its checkpoint saved) always gets its line; other
                // per-iteration records (L-BFGS, boosting rounds) at most every half second.
                bool epoch = value.Milestone || (value.Epoch is not null && _sinceLine.Elapsed.TotalSeconds >= 0.5);
                if (!crossed && !epoch) return;
                while (_nextFraction <= value.Fraction + 1e-9) _nextFraction += 0.1;
                string text = $"{(Math.Clamp(value.Fraction, 0, 1) * 100).ToString("0", CultureInfo.InvariantCulture),3}% {value.Stage}";
                if (value.Epoch is { } e)
                {
                    text += $" (epoch {e.Epoch}: loss {e.TrainLoss.ToString("0.0000", CultureInfo.InvariantCulture)}";
                    if (e.ValidationAccuracy is double accuracy) text += $", validation {(accuracy * 100).ToString("0.00", CultureInfo.InvariantCulture)}%";
                    text += ")";
                }
                Line(text);
            }
        }

        public void SetStage(string stage) => Line(stage);

        public void Complete(string summary) => Line(summary);

        public void Fail(string reason) => Line(reason);

        private void Line(string text)
        {
            lock (_lock)
            {
                console.WriteLine($"[{trainer}] {text}");
                _sinceLine.Restart();
            }
        }
    }
}
