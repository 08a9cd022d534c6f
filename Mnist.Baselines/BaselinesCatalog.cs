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
        catalog.Add(new TrainerRegistration(
            LogisticRegressionTrainer.TrainerName,
            "Multinomial logistic regression with L2, full-batch L-BFGS (params: l2, max-iterations, tolerance, memory, seed)",
            parameters => new LogisticRegressionTrainer(LogisticRegressionOptions.FromParameters(parameters)),
            LogisticRegressionModel.Load));
        catalog.Add(new TrainerRegistration(
            LinearSvmTrainer.TrainerName,
            "Linear SVM, Crammer-Singer multiclass (or one-vs-rest squared hinge) by LIBLINEAR dual coordinate descent (params: c, max-epochs, tolerance, seed, shrinking, multiclass)",
            parameters => new LinearSvmTrainer(LinearSvmOptions.FromParameters(parameters)),
            LinearSvmModel.Load));
        catalog.Add(GbdtRegistration.Registration);
        catalog.Add(new TrainerRegistration(
            KernelSvmTrainer.TrainerName,
            "RBF-kernel SVM, one-vs-one exact C-SVCs by SMO (libsvm's working-set selection) over GEMM-computed kernel matrices (params: gamma, c, tolerance, max-iterations)",
            parameters => new KernelSvmTrainer(KernelSvmOptions.FromParameters(parameters)),
            KernelSvmModel.Load));
        catalog.Add(new TrainerRegistration(
            KnnTrainer.TrainerName,
            "Exact k-nearest neighbours by squared L2 through blocked GEMM, optional PCA (params: k, weighting, pca-components)",
            parameters => new KnnTrainer(KnnOptions.FromParameters(parameters)),
            KnnModel.Load));
        return catalog;
    }
}
