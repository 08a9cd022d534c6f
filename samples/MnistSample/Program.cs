// A program that uses MnistExperiments.Core as a NuGet package: load a data folder, split it, train a trainer
// registered in a catalog, evaluate, save and reload a model file, and write a report (report.md, results.json, pictures).
//   dotnet run -c Release --project samples/MnistSample -- [DATA_DIR] [OUTPUT_DIR] [TRAIN_LIMIT]
using System.Reflection;
using Mnist.Core.Data;
using Mnist.Core.Evaluation;
using Mnist.Core.Reporting;
using Mnist.Core.Training;
using MnistSample;

string dataFolder = args.Length > 0 ? args[0] : "data";
string output = args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "mnist-sample");
int? trainLimit = args.Length > 2 ? int.Parse(args[2]) : null;
const int seed = 42;

Dataset dataset;
try { dataset = DatasetLoader.Load(dataFolder); }
catch (DataFormatException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }

var all = trainLimit is int limit ? dataset.Train.Take(limit) : dataset.Train;
var (trainRows, validationRows) = Splits.StratifiedTrainValidation(all, validationFraction: 0.1, seed);
var train = all.Subset(trainRows);
var validation = all.Subset(validationRows);
var test = dataset.Test is { HasLabels: true } labelled ? labelled : null;

// The catalog holds the trainers a program knows; this one is defined in this sample (NearestCentroid.cs).
var catalog = new TrainerCatalog().Add(NearestCentroidOptions.Registration);
var trainer = catalog.Create("centroid", new Dictionary<string, string> { ["temperature"] = "4" });

var started = DateTime.UtcNow;
var model = trainer.Fit(train, validation);
double fitSeconds = (DateTime.UtcNow - started).TotalSeconds;

var trainMetrics = Evaluator.Evaluate(model, train);
var validationMetrics = Evaluator.Evaluate(model, validation);
var testMetrics = test is null ? null : Evaluator.Evaluate(model, test);
Console.WriteLine($"{dataset.Format}: {train.Count} train, {validation.Count} validation, {test?.Count ?? 0} test images");
Console.WriteLine($"{trainer.Name}: train {trainMetrics.Accuracy:P2}, validation {validationMetrics.Accuracy:P2}"
    + (testMetrics is null ? "" : $", test {testMetrics.Accuracy:P2}"));

// A model file records the trainer, its hyperparameters and the training data's fingerprint; the catalog reads it back.
Directory.CreateDirectory(output);
string modelPath = Path.Combine(output, "centroid.model");
ModelFile.Save(model, modelPath, train.ContentSha256());
var loaded = ModelFile.Load(modelPath, catalog);
var evaluated = test ?? validation;
if (!loaded.Predict(evaluated).SequenceEqual(model.Predict(evaluated)))
{
    Console.Error.WriteLine($"error: the model read back from {modelPath} predicts differently");
    return 1;
}
Console.WriteLine($"model file: {modelPath} ({new FileInfo(modelPath).Length:N0} bytes, read back with the same predictions)");

var predictSet = test is null ? DataSplit.Validation : DataSplit.Test;
var results = new ExperimentResults
{
    Version = typeof(ModelFile).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?",
    Seed = seed,
    Threads = Environment.ProcessorCount,
    TrainCount = train.Count,
    ValidationCount = validation.Count,
    TestCount = test?.Count ?? 0,
    Kind = "sample",
    DataFolder = dataFolder,
    DataFormat = dataset.Format,
    DataFiles = dataset.Files,
    TestHasLabels = test is not null,
    ValidationFraction = 0.1,
    TrainLimit = trainLimit,
    Models =
    [
        ModelResult.Create(trainer.Name, model.Hyperparameters, trainMetrics, validationMetrics, testMetrics,
            fitSeconds, predictSeconds: 0, predictSet, evaluated.Count, engine: model.Engine),
    ],
};
var predictions = new ModelPredictions(trainer.Name, predictSet, evaluated, model.Predict(evaluated));
ExperimentReport.Write(output, results, [predictions], title: "MnistExperiments.Core sample");
Console.WriteLine($"report: {Path.Combine(output, "report.md")}");

// A nearest-class-mean classifier reaches about 82% on MNIST; far less means something is broken.
return (testMetrics ?? validationMetrics).Accuracy >= 0.7 ? 0 : 1;
