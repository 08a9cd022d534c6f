using Microsoft.ML;
using Microsoft.ML.Data;
using Mnist.Core.Data;

namespace Mnist.Tests.Data;

/// <summary>DigitDataView as an ML.NET IDataView: schema, cursors, and ML.NET trainers fitted on it directly.</summary>
public class DigitDataViewMlNetTests
{
    /// <summary>n images of 2×3 pixels; pixel p of image i is ((i * 7 + p) % 11) / 10, label i % 10, id 1000 + i.</summary>
    private static DigitDataView Synthetic(int n, bool labels = true, bool ids = true)
    {
        var pixels = new float[n * 6];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < 6; p++)
                pixels[i * 6 + p] = ((i * 7 + p) % 11) / 10f;
        return new DigitDataView(2, 3, pixels,
            labels ? Enumerable.Range(0, n).Select(i => (byte)(i % 10)).ToArray() : null,
            ids ? Enumerable.Range(0, n).Select(i => 1000 + i).ToArray() : null);
    }

    [Test]
    public void SchemaHasKeyLabelWithDigitNamesFeatureVectorAndImageId()
    {
        IDataView view = Synthetic(12);
        var schema = view.Schema;
        Assert.That(schema.Select(c => c.Name), Is.EqualTo(new[] { "Label", "Features", "ImageId" }));
        var label = schema["Label"];
        Assert.That(label.Type, Is.TypeOf<KeyDataViewType>());
        var key = (KeyDataViewType)label.Type;
        Assert.Multiple(() =>
        {
            Assert.That(key.RawType, Is.EqualTo(typeof(uint)));
            Assert.That(key.Count, Is.EqualTo(10));
            Assert.That(schema["Features"].Type, Is.EqualTo(new VectorDataViewType(NumberDataViewType.Single, 6)));
            Assert.That(schema["ImageId"].Type, Is.EqualTo(NumberDataViewType.Int32));
            Assert.That(view.GetRowCount(), Is.EqualTo(12));
            Assert.That(view.CanShuffle, Is.True);
        });
        var names = default(VBuffer<ReadOnlyMemory<char>>);
        label.GetKeyValues(ref names);
        Assert.That(names.DenseValues().Select(v => v.ToString()), Is.EqualTo(Enumerable.Range(0, 10).Select(d => d.ToString())));
    }

    [Test]
    public void UnlabelledViewWithoutIdsHasOnlyFeatures()
    {
        IDataView view = Synthetic(3, labels: false, ids: false);
        Assert.That(view.Schema.Select(c => c.Name), Is.EqualTo(new[] { "Features" }));
    }

    [Test]
    public void GettersReadLabelsAsKeysPixelsAndIds()
    {
        var source = Synthetic(15);
        IDataView view = source.Subset([14, 3, 8]);
        using var cursor = view.GetRowCursor(view.Schema);
        var labelGetter = cursor.GetGetter<uint>(view.Schema["Label"]);
        var featureGetter = cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]);
        var idGetter = cursor.GetGetter<int>(view.Schema["ImageId"]);
        var rowIdGetter = cursor.GetIdGetter();
        var keys = new List<uint>();
        var firstPixels = new List<float>();
        var imageIds = new List<int>();
        var rowIds = new List<ulong>();
        var features = default(VBuffer<float>);
        Assert.That(cursor.Position, Is.EqualTo(-1));
        while (cursor.MoveNext())
        {
            uint key = 0;
            int id = 0;
            DataViewRowId rowId = default;
            labelGetter(ref key);
            featureGetter(ref features);
            idGetter(ref id);
            rowIdGetter(ref rowId);
            Assert.That(features.Length, Is.EqualTo(6));
            Assert.That(features.GetValues().ToArray(), Is.EqualTo(source.GetImage(imageIds.Count switch { 0 => 14, 1 => 3, _ => 8 }).ToArray()));
            keys.Add(key);
            firstPixels.Add(features.GetValues()[0]);
            imageIds.Add(id);
            rowIds.Add(rowId.Low);
        }
        Assert.Multiple(() =>
        {
            Assert.That(keys, Is.EqualTo(new uint[] { 5, 4, 9 }), "digit d is key d+1");
            Assert.That(imageIds, Is.EqualTo(new[] { 1014, 1003, 1008 }));
            Assert.That(rowIds, Is.EqualTo(new ulong[] { 14, 3, 8 }), "row ids are source rows");
        });
    }

    [Test]
    public void FeatureGetterReusesTheCallersBuffer()
    {
        IDataView view = Synthetic(4);
        using var cursor = view.GetRowCursor([view.Schema["Features"]]);
        var getter = cursor.GetGetter<VBuffer<float>>(view.Schema["Features"]);
        var buffer = new VBuffer<float>(6, new float[6]);
        cursor.MoveNext();
        getter(ref buffer);
        var first = buffer.GetValues().ToArray();
        cursor.MoveNext();
        long before = GC.GetAllocatedBytesForCurrentThread();
        getter(ref buffer);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Multiple(() =>
        {
            Assert.That(allocated, Is.Zero, "a row costs one copy into the caller's buffer, no allocation");
            Assert.That(buffer.GetValues().ToArray(), Is.Not.EqualTo(first));
        });
    }

    [Test]
    public void InactiveColumnsThrowAndUnknownColumnsAreRefused()
    {
        IDataView view = Synthetic(4);
        using var cursor = view.GetRowCursor([view.Schema["Features"]]);
        Assert.Multiple(() =>
        {
            Assert.That(cursor.IsColumnActive(view.Schema["Features"]), Is.True);
            Assert.That(cursor.IsColumnActive(view.Schema["Label"]), Is.False);
            Assert.That(() => cursor.GetGetter<uint>(view.Schema["Label"]), Throws.InvalidOperationException);
            Assert.That(() => cursor.GetGetter<float>(view.Schema["Features"]), Throws.InvalidOperationException, "wrong value type");
        });
        IDataView other = Synthetic(4, ids: false);
        Assert.That(() => other.GetRowCursor([view.Schema["ImageId"]]), Throws.ArgumentException);
    }

    [Test]
    public void ShufflingIsAPermutationDeterminedByTheRandom()
    {
        IDataView view = Synthetic(50);
        List<ulong> Order(Random? random)
        {
            using var cursor = view.GetRowCursor([], random);
            var getter = cursor.GetIdGetter();
            var order = new List<ulong>();
            while (cursor.MoveNext())
            {
                DataViewRowId id = default;
                getter(ref id);
                order.Add(id.Low);
            }
            return order;
        }
        var plain = Order(null);
        var a = Order(new Random(7));
        var b = Order(new Random(7));
        var c = Order(new Random(8));
        Assert.Multiple(() =>
        {
            Assert.That(plain, Is.EqualTo(Enumerable.Range(0, 50).Select(i => (ulong)i)));
            Assert.That(a, Is.EqualTo(b), "same seed, same order");
            Assert.That(a, Is.Not.EqualTo(plain));
            Assert.That(a, Is.Not.EqualTo(c));
            Assert.That(a.Order(), Is.EqualTo(plain), "a permutation of the rows, ids unchanged");
        });
    }

    [Test]
    public void MoveNextAfterTheEndStaysFalseAndGettersThrow()
    {
        IDataView view = Synthetic(2);
        using var cursor = view.GetRowCursor(view.Schema);
        var getter = cursor.GetGetter<uint>(view.Schema["Label"]);
        Assert.That(cursor.MoveNext(), Is.True);
        Assert.That(cursor.MoveNext(), Is.True);
        Assert.That(cursor.MoveNext(), Is.False);
        Assert.That(cursor.MoveNext(), Is.False);
        uint value = 0;
        Assert.That(() => getter(ref value), Throws.InvalidOperationException);
        var set = view.GetRowCursorSet(view.Schema, 4);
        Assert.That(set, Has.Length.GreaterThanOrEqualTo(1));
        foreach (var c in set) c.Dispose();
    }

    [Test]
    public void MlNetTrainerFitsOnOurViewWithItsDefaultColumnNames()
    {
        var data = TestData.Mnist;
        IDataView train = data.Train.Take(3000);
        IDataView test = data.Test!.Take(1000);
        var ml = new MLContext(seed: 1);
        var model = ml.MulticlassClassification.Trainers.SdcaMaximumEntropy(maximumNumberOfIterations: 5).Fit(train);
        var metrics = ml.MulticlassClassification.Evaluate(model.Transform(test));
        Assert.That(metrics.MicroAccuracy, Is.GreaterThan(0.80), "SDCA on 3,000 MNIST images");
    }

    [Test]
    public void FromDataViewRoundTripsOurView()
    {
        var original = Synthetic(23).Subset([4, 0, 22, 9]);
        var copy = DigitDataView.FromDataView(original, height: 2, width: 3);
        Assert.Multiple(() =>
        {
            Assert.That((copy.Height, copy.Width, copy.Count), Is.EqualTo((2, 3, 4)));
            Assert.That(copy.GetLabels(), Is.EqualTo(original.GetLabels()));
            Assert.That(copy.GetIds(), Is.EqualTo(original.GetIds()));
            Assert.That(copy.Materialize().ContiguousPixels.ToArray(), Is.EqualTo(original.Materialize().ContiguousPixels.ToArray()));
        });
    }

    private sealed class Row
    {
        public float Label { get; set; }
        [VectorType(4)] public float[] Features { get; set; } = [];
    }

    private static IDataView Rows(MLContext ml, params (float Label, float[] Pixels)[] rows) =>
        ml.Data.LoadFromEnumerable(rows.Select(r => new Row { Label = r.Label, Features = r.Pixels }));

    [Test]
    public void FromDataViewReadsNumericAndKeyLabelsAndInfersASquare()
    {
        var ml = new MLContext(1);
        var data = Rows(ml, (3, [0, .5f, 1, 0]), (7, [1, 1, 0, 0]), (3, [.25f, 0, 0, 0]));
        var view = DigitDataView.FromDataView(data);
        Assert.Multiple(() =>
        {
            Assert.That((view.Height, view.Width), Is.EqualTo((2, 2)));
            Assert.That(view.GetLabels(), Is.EqualTo(new byte[] { 3, 7, 3 }));
            Assert.That(view.HasIds, Is.False);
        });
        // MapValueToKey numbers keys by first appearance (3 → key 1, 7 → key 2): its KeyValues name the digits.
        var keyed = ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        Assert.That(DigitDataView.FromDataView(keyed).GetLabels(), Is.EqualTo(new byte[] { 3, 7, 3 }));
        var wide = DigitDataView.FromDataView(data, height: 1, width: 4);
        Assert.That((wide.Height, wide.Width), Is.EqualTo((1, 4)));
    }

    [Test]
    public void FromDataViewNamesTheColumnRowAndProblem()
    {
        var ml = new MLContext(1);
        string Error(IDataView data, int height = 0, int width = 0) =>
            Assert.Throws<ArgumentException>(() => DigitDataView.FromDataView(data, height: height, width: width))!.Message;
        Assert.Multiple(() =>
        {
            Assert.That(Error(Rows(ml, (1, [0, 0, 0, 0]), (12, [0, 0, 0, 0]))), Is.EqualTo("column 'Label', row 1: label 12 is not a digit 0..9"));
            Assert.That(Error(Rows(ml, (2.5f, [0, 0, 0, 0]))), Is.EqualTo("column 'Label', row 0: label 2.5 is not a digit 0..9"));
            Assert.That(Error(Rows(ml, (1, [0, 0, 0, 0]), (1, [0, 255, 0, 0]))), Does.StartWith("column 'Features', row 1: pixel 1 is 255, outside [0,1]"));
            Assert.That(Error(Rows(ml, (1, [0, 0, 0, 0])), height: 3, width: 3), Is.EqualTo("column 'Features': 4 values per row do not make 3×3 images"));
            Assert.That(Error(ml.Data.LoadFromEnumerable(new[] { new ScalarRow { Label = 1, Features = 0.5f } })), Does.StartWith("column 'Features': expected a Single vector of known size"));
            Assert.That(Error(ml.Data.LoadFromEnumerable(new[] { new TextLabelRow { Label = "one", Features = new float[4] } })),
                Does.StartWith("column 'Label': expected a key, UInt32, Int32, Single or Double label"));
            Assert.That(Error(ml.Data.LoadFromEnumerable(new[] { new OddRow { Label = 1, Features = new float[3] } })),
                Is.EqualTo("column 'Features': 3 values per row is not a square image; give its height and width"));
            Assert.That(Assert.Throws<ArgumentException>(() => DigitDataView.FromDataView(Rows(ml, (1, [0, 0, 0, 0])), labelColumn: "Digit"))!.Message,
                Does.StartWith("column 'Digit': no such column"));
        });
    }

    private sealed class TextLabelRow
    {
        public string Label { get; set; } = "";
        [VectorType(4)] public float[] Features { get; set; } = [];
    }

    private sealed class ScalarRow
    {
        public float Label { get; set; }
        public float Features { get; set; }
    }

    private sealed class OddRow
    {
        public float Label { get; set; }
        [VectorType(3)] public float[] Features { get; set; } = [];
    }
}
