using System.Globalization;
using Microsoft.ML;
using Microsoft.ML.Data;

namespace Mnist.Core.Data;

// The other direction: any ML.NET IDataView with a label and a pixel vector becomes a DigitDataView,
// so our trainers run on data an ML.NET user already holds.
public sealed partial class DigitDataView
{
    /// <summary>
    /// Reads <paramref name="data"/> into a new (contiguous) view.
    /// </summary>
    /// <param name="data">Any ML.NET data.</param>
    /// <param name="labelColumn">
    /// Digits 0..9 as a key (key k is the k-th of its KeyValues annotation when it has one, else digit k−1),
    /// UInt32, Int32, Single or Double; null for unlabelled data.
    /// </param>
    /// <param name="featuresColumn">A Single vector of known size: the pixels, row-major, in [0,1].</param>
    /// <param name="idColumn">An optional Int32 column of image ids; ignored when the data has no such column.</param>
    /// <param name="height">Image height; 0 infers a square from the vector size.</param>
    /// <param name="width">Image width; 0 infers a square from the vector size.</param>
    /// <exception cref="ArgumentException">A missing column, a wrong type or size, or a bad value: the
    /// message names the column, the row (0-based) and what was wrong.</exception>
    public static DigitDataView FromDataView(
        IDataView data,
        string? labelColumn = Columns.Label,
        string featuresColumn = Columns.Features,
        string? idColumn = Columns.ImageId,
        int height = 0,
        int width = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        var schema = data.Schema;
        var features = RequireColumn(schema, featuresColumn);
        if (features.Type is not VectorDataViewType { ItemType: NumberDataViewType } vector || vector.ItemType.RawType != typeof(float) || !vector.IsKnownSize)
            throw new ArgumentException($"column '{featuresColumn}': expected a Single vector of known size, found {features.Type}");
        int size = vector.Size;
        (height, width) = ImageShape(featuresColumn, size, height, width);

        DataViewSchema.Column? label = labelColumn is null ? null : RequireColumn(schema, labelColumn);
        DataViewSchema.Column? id = idColumn is not null && schema.GetColumnOrNull(idColumn) is { } idCol ? idCol : null;
        if (id is { } idc && idc.Type != NumberDataViewType.Int32)
            throw new ArgumentException($"column '{idColumn}': expected Int32 image ids, found {idc.Type}");

        var needed = new List<DataViewSchema.Column> { features };
        if (label is not null) needed.Add(label.Value);
        if (id is not null) needed.Add(id.Value);

        long? rowCount = data.GetRowCount();
        int capacity = rowCount is > 0 and < int.MaxValue ? (int)rowCount.Value : 1024;
        var pixels = new float[checked((long)capacity * size)];
        var labels = label is null ? null : new byte[capacity];
        var ids = id is null ? null : new int[capacity];
        int count = 0;

        using (var cursor = data.GetRowCursor(needed))
        {
            var pixelGetter = cursor.GetGetter<VBuffer<float>>(features);
            var labelGetter = label is null ? null : LabelReader(cursor, label.Value);
            var idGetter = id is null ? null : cursor.GetGetter<int>(id.Value);
            var buffer = default(VBuffer<float>);
            while (cursor.MoveNext())
            {
                if (count == capacity)
                {
                    capacity = checked(capacity * 2);
                    Array.Resize(ref pixels, checked(capacity * size));
                    if (labels is not null) Array.Resize(ref labels, capacity);
                    if (ids is not null) Array.Resize(ref ids, capacity);
                }
                pixelGetter(ref buffer);
                if (buffer.Length != size)
                    throw new ArgumentException($"column '{featuresColumn}', row {count}: {buffer.Length} values, expected {size}");
                var row = pixels.AsSpan(count * size, size);
                buffer.CopyTo(row);
                for (int i = 0; i < row.Length; i++)
                {
                    float value = row[i];
                    if (!(value >= 0f && value <= 1f))
                        throw new ArgumentException($"column '{featuresColumn}', row {count}: pixel {i} is {value.ToString(CultureInfo.InvariantCulture)}, outside [0,1] (scale byte pixels by 1/255)");
                }
                if (labels is not null) labels[count] = labelGetter!(count);
                if (ids is not null)
                {
                    int value = 0;
                    idGetter!(ref value);
                    ids[count] = value;
                }
                count++;
            }
        }

        Array.Resize(ref pixels, count * size);
        if (labels is not null) Array.Resize(ref labels, count);
        if (ids is not null) Array.Resize(ref ids, count);
        return new DigitDataView(height, width, pixels, labels, ids);
    }

    private static DataViewSchema.Column RequireColumn(DataViewSchema schema, string name) =>
        schema.GetColumnOrNull(name)
        ?? throw new ArgumentException($"column '{name}': no such column (the data has {string.Join(", ", schema.Select(c => $"'{c.Name}'"))})");

    private static (int Height, int Width) ImageShape(string column, int size, int height, int width)
    {
        if (height > 0 && width > 0)
        {
            if ((long)height * width != size)
                throw new ArgumentException($"column '{column}': {size} values per row do not make {height}×{width} images");
            return (height, width);
        }
        if (height != 0 || width != 0)
            throw new ArgumentException($"column '{column}': give both image height and width, or neither to infer a square");
        int side = (int)Math.Round(Math.Sqrt(size));
        if (side * side != size)
            throw new ArgumentException($"column '{column}': {size} values per row is not a square image; give its height and width");
        return (side, side);
    }

    /// <summary>A reader of the current row's digit, for each supported label type; the argument is the row for messages.</summary>
    private static Func<int, byte> LabelReader(DataViewRowCursor cursor, DataViewSchema.Column column)
    {
        string name = column.Name;
        byte Digit(double value, int row)
        {
            if (value is >= 0 and <= ClassCount - 1 && value == Math.Floor(value)) return (byte)value;
            throw new ArgumentException($"column '{name}', row {row}: label {value.ToString(CultureInfo.InvariantCulture)} is not a digit 0..9");
        }

        switch (column.Type)
        {
            case KeyDataViewType key when key.RawType == typeof(uint):
            {
                var digits = KeyDigits(column, key);
                var getter = cursor.GetGetter<uint>(column);
                return row =>
                {
                    uint value = 0;
                    getter(ref value);
                    if (value == 0 || value > digits.Length)
                        throw new ArgumentException($"column '{name}', row {row}: key {value} is missing or outside 1..{digits.Length}");
                    return digits[value - 1];
                };
            }
            case NumberDataViewType when column.Type.RawType == typeof(uint):
                return Numeric<uint>(v => v);
            case NumberDataViewType when column.Type.RawType == typeof(int):
                return Numeric<int>(v => v);
            case NumberDataViewType when column.Type.RawType == typeof(float):
                return Numeric<float>(v => v);
            case NumberDataViewType when column.Type.RawType == typeof(double):
                return Numeric<double>(v => v);
            default:
                throw new ArgumentException($"column '{name}': expected a key, UInt32, Int32, Single or Double label, found {column.Type}");
        }

        Func<int, byte> Numeric<T>(Func<T, double> toDouble)
        {
            var getter = cursor.GetGetter<T>(column);
            return row =>
            {
                T value = default!;
                getter(ref value);
                return Digit(toDouble(value), row);
            };
        }
    }

    /// <summary>The digit of each key value: from the KeyValues annotation when there is one, else key k is digit k−1.</summary>
    private static byte[] KeyDigits(DataViewSchema.Column column, KeyDataViewType key)
    {
        var keyValues = column.Annotations.Schema.GetColumnOrNull(KeyValuesKind);
        if (keyValues is null)
        {
            if (key.Count > ClassCount)
                throw new ArgumentException($"column '{column.Name}': a key of {key.Count} values without KeyValues cannot be digits 0..9");
            return Enumerable.Range(0, (int)key.Count).Select(d => (byte)d).ToArray();
        }
        var names = new List<string>();
        if (keyValues.Value.Type is VectorDataViewType { ItemType: TextDataViewType })
        {
            var text = default(VBuffer<ReadOnlyMemory<char>>);
            column.Annotations.GetValue(KeyValuesKind, ref text);
            foreach (var value in text.DenseValues()) names.Add(value.ToString());
        }
        else
        {
            // Numeric key values (MapValueToKey over a number column): read them as text through their type.
            names.AddRange(NumericKeyValues(column, keyValues.Value.Type));
        }
        var digits = new byte[names.Count];
        for (int k = 0; k < names.Count; k++)
        {
            if (!double.TryParse(names[k], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value is < 0 or > ClassCount - 1 || value != Math.Floor(value))
                throw new ArgumentException($"column '{column.Name}': key value {k + 1} is '{names[k]}', not a digit 0..9");
            digits[k] = (byte)value;
        }
        return digits;
    }

    private static IEnumerable<string> NumericKeyValues(DataViewSchema.Column column, DataViewType type)
    {
        IEnumerable<string> Read<T>() where T : IFormattable
        {
            var values = default(VBuffer<T>);
            column.Annotations.GetValue(KeyValuesKind, ref values);
            return values.DenseValues().Select(v => v.ToString(null, CultureInfo.InvariantCulture)).ToList();
        }
        return (type as VectorDataViewType)?.ItemType.RawType switch
        {
            Type t when t == typeof(float) => Read<float>(),
            Type t when t == typeof(double) => Read<double>(),
            Type t when t == typeof(int) => Read<int>(),
            Type t when t == typeof(uint) => Read<uint>(),
            Type t when t == typeof(long) => Read<long>(),
            _ => throw new ArgumentException($"column '{column.Name}': its KeyValues are of type {type}, which cannot name digits"),
        };
    }
}
