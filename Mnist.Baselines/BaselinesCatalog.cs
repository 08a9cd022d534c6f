using Mnist.Baselines.Gbdt;
using Mnist.Baselines.KernelSvm;
using Mnist.Baselines.Knn;
using Mnist.Baselines.LinearSvm;
using Mnist.Baselines.LogisticRegression;
using Mnist.Core.Training;

namespace Mnist.Baselines;

/// <summary>Registers the classical baseline trainers with a <see cref="TrainerCatalog"/>.</summary>
public static class BaselinesCatalog
{
    /// <summary>Adds "logreg", "linear-svm", "gbdt", "kernel-svm" and "knn".</summary>
    public static TrainerCatalog AddBaselines(this TrainerCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        catalog.Add(TrainerRegistration.For(
            LogisticRegressionTrainer.TrainerName,
            "Multinomial logistic regression with L2, full-batch L-BFGS",
            LogisticRegressionOptions.Schema, options => new LogisticRegressionTrainer(options), LogisticRegressionModel.Load));
        catalog.Add(TrainerRegistration.For(
            LinearSvmTrainer.TrainerName,
            "Linear SVM, Crammer-Singer multiclass (or one-vs-rest squared hinge) by LIBLINEAR dual coordinate descent",
            LinearSvmOptions.Schema, options => new LinearSvmTrainer(options), LinearSvmModel.Load));
        catalog.Add(TrainerRegistration.For(
            GbdtTrainer.TrainerName,
            "Histogram gradient-boosted trees (softmax, leaf-wise, exact byte bins), one tree per class per round",
            GbdtOptions.Schema, options => new GbdtTrainer(options), GbdtModel.Load));
        catalog.Add(TrainerRegistration.For(
            KernelSvmTrainer.TrainerName,
            "RBF-kernel SVM, one-vs-one exact C-SVCs by SMO (libsvm's working-set selection) over GEMM-computed kernel matrices",
            KernelSvmOptions.Schema, options => new KernelSvmTrainer(options), KernelSvmModel.Load));
        catalog.Add(TrainerRegistration.For(
            KnnTrainer.TrainerName,
            "Exact k-nearest neighbours by squared L2 through blocked GEMM, optional PCA",
            KnnOptions.Schema, options => new KnnTrainer(options), KnnModel.Load));
        return catalog;
    }
}
