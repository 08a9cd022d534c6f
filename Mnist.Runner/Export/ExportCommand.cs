using System.CommandLine;
using Mnist.Core.Training;
using Mnist.Onnx;
using Mnist.Runner.Common;
using Spectre.Console;

namespace Mnist.Runner.Export;

/// <summary>
/// <c>mnist export</c>: writes a model file as an ONNX model (<see cref="OnnxExport"/>) for ONNX Runtime or
/// ML.NET's ApplyOnnxModel. A model without a faithful graph is one "not exportable" error line, exit 2.
/// </summary>
public static class ExportCommand
{
    public static Command Create(RunnerEnvironment environment)
    {
        var set = new CommandOptions();
        var model = set.Add(new Option<string?>("--model") { Description = "A model file written by 'mnist train'", HelpName = "FILE" });
        var onnx = set.Add(new Option<string?>("--onnx") { Description = "The ONNX file to write", HelpName = "FILE" });
        var force = set.Add(CommonOptions.Force("Overwrite an existing ONNX file"));
        set.Add(CommonOptions.Config());

        var command = set.AddTo(new Command("export", "Export a saved model file as an ONNX model"));
        command.SetAction(parseResult => CommandExecution.Run(environment, () => Run(environment,
            parseResult.GetValue(model), parseResult.GetValue(onnx), parseResult.GetValue(force))));
        return command;
    }

    private static void Run(RunnerEnvironment environment, string? modelOption, string? onnxOption, bool force)
    {
        string modelPath = Path.GetFullPath(Require.File(modelOption, "--model"), environment.CurrentDirectory);
        string onnxPath = Path.GetFullPath(Require.File(onnxOption, "--onnx"), environment.CurrentDirectory);
        OutputLocation.CheckFile(onnxPath, force, "--onnx");

        var header = ModelFile.ReadHeader(modelPath);
        var trained = ModelFile.Load(modelPath, environment.Catalog);
        try
        {
            OnnxExport.Save(trained, onnxPath, header.TrainingDataSha256);
        }
        catch (NotExportableException e)
        {
            throw new UsageException($"{modelPath}: the {trained.TrainerName} model is not exportable to ONNX: {e.Message}");
        }
        environment.Console.WriteLine($"Exported the {trained.TrainerName} model {modelPath} to {onnxPath} ({new FileInfo(onnxPath).Length:N0} bytes)");
    }
}
