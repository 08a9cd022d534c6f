using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using Mnist.Core.Training;

namespace Mnist.Runner.Trainers;

/// <summary>
/// <c>mnist trainers</c>: every catalog trainer with its hyperparameters (type, default, allowed values, doc),
/// all read from the trainers' schemas; also the hyperparameter section of the other commands' --help.
/// </summary>
public static class TrainersCommand
{
    public static Command Create(RunnerEnvironment environment)
    {
        var command = new Command("trainers", "List every trainer with its hyperparameters: type, default, allowed values and what each does");
        command.SetAction(_ =>
        {
            environment.Out.Write(Describe(environment.Catalog));
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>One block per trainer: its name and description, then a row per hyperparameter.</summary>
    public static string Describe(TrainerCatalog catalog)
    {
        if (catalog.Registrations.Count == 0) return "No trainers: the trainer catalog of this build is empty.\n";
        var text = new System.Text.StringBuilder();
        foreach (var trainer in catalog.Registrations)
        {
            text.Append(trainer.Name).Append(": ").Append(trainer.Description)
                .Append(trainer.RunsByDefault ? "" : " (runs when named or with --trainers all)").Append('\n');
            var rows = trainer.Hyperparameters.Parameters
                .Select(p => new[] { p.Name, p.TypeName, Hyperparameter.Format(p.Default), p.Range, p.Doc + (p.IsSeed ? " (set by --seed)" : "") })
                .ToList();
            if (rows.Count == 0)
            {
                text.Append("  (no hyperparameters)\n\n");
                continue;
            }
            rows.Insert(0, ["name", "type", "default", "allowed", "meaning"]);
            var widths = Enumerable.Range(0, 4).Select(c => rows.Max(r => r[c].Length)).ToArray();
            foreach (var row in rows)
                text.Append("  ").Append(string.Join("  ", row.Take(4).Select((cell, c) => cell.PadRight(widths[c])))).Append("  ").Append(row[4]).Append('\n');
            text.Append('\n');
        }
        return text.ToString();
    }

    /// <summary>
    /// Appends a "Hyperparameters" section to the --help of every command with a --param option: each trainer's
    /// names and defaults, from its schema.
    /// </summary>
    public static void AddHelpSection(RootCommand root, RunnerEnvironment environment)
    {
        var option = root.Options.OfType<HelpOption>().FirstOrDefault();
        if (option?.Action is HelpAction help) option.Action = new HelpWithHyperparameters(help, environment.Catalog);
    }

    private sealed class HelpWithHyperparameters(HelpAction help, TrainerCatalog catalog) : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            int exitCode = help.Invoke(parseResult);
            var command = parseResult.CommandResult.Command;
            if (!command.Options.Any(o => o.Name == "--param") || catalog.Registrations.Count == 0) return exitCode;
            var output = parseResult.InvocationConfiguration.Output;
            output.WriteLine("Hyperparameters (--param name=value; defaults shown; 'mnist trainers' gives types, ranges and meanings):");
            int width = catalog.Names.Max(n => n.Length);
            foreach (var trainer in catalog.Registrations)
            {
                var parameters = trainer.Hyperparameters.Parameters;
                output.WriteLine($"  {trainer.Name.PadRight(width)}  " +
                    (parameters.Count == 0 ? "(none)" : string.Join(", ", parameters.Select(p => $"{p.Name}={Hyperparameter.Format(p.Default)}"))));
            }
            output.WriteLine();
            return exitCode;
        }
    }
}
