using Google.Protobuf;
using Onnx;

namespace Mnist.Onnx;

/// <summary>
/// Appends initializers and nodes to an ONNX <see cref="GraphProto"/> (the generated protobuf classes of
/// OnnxSharp), giving every value a unique name. Node helpers return the name of their (first) output.
/// </summary>
internal sealed class GraphBuilder
{
    /// <summary>The operator-set domain of the ONNX-ML operators (TreeEnsembleRegressor).</summary>
    public const string MlDomain = "ai.onnx.ml";

    private readonly Dictionary<string, int> _counters = [];

    public GraphProto Graph { get; } = new() { Name = "mnist" };

    /// <summary>Whether a node of <see cref="MlDomain"/> was added (the model then imports that operator set).</summary>
    public bool UsesMlDomain { get; private set; }

    private string Fresh(string hint)
    {
        int n = _counters.TryGetValue(hint, out int seen) ? seen + 1 : 0;
        _counters[hint] = n;
        return n == 0 ? hint : $"{hint}_{n}";
    }

    /// <summary>A float32 constant of shape <paramref name="dims"/>.</summary>
    public string Floats(string hint, ReadOnlySpan<float> values, params long[] dims) =>
        Constant(hint, values, TensorProto.Types.DataType.Float, dims);

    /// <summary>An int64 constant of shape <paramref name="dims"/>.</summary>
    public string Int64s(string hint, ReadOnlySpan<long> values, params long[] dims) =>
        Constant(hint, values, TensorProto.Types.DataType.Int64, dims);

    /// <summary>An initializer of shape <paramref name="dims"/>, its values stored as raw little-endian bytes.</summary>
    private string Constant<T>(string hint, ReadOnlySpan<T> values, TensorProto.Types.DataType type, long[] dims) where T : unmanaged
    {
        CheckShape(values.Length, dims);
        var tensor = new TensorProto { Name = Fresh(hint), DataType = (int)type };
        tensor.Dims.AddRange(dims);
        tensor.RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values));
        Graph.Initializer.Add(tensor);
        return tensor.Name;
    }

    public string Scalar(string hint, float value) => Floats(hint, [value]);

    private static void CheckShape(int length, long[] dims)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("ONNX raw tensor data is little-endian.");
        long size = dims.Aggregate(1L, (a, d) => a * d);
        if (size != length) throw new ArgumentException($"{length} values for a tensor of shape [{string.Join(",", dims)}].");
    }

    /// <summary>Adds an operator of the default domain; <paramref name="output"/> names its output (default: a fresh name from the operator).</summary>
    public string Node(string op, IEnumerable<string> inputs, string? output = null, params AttributeProto[] attributes) =>
        AddNode(op, "", inputs, output, attributes);

    /// <summary>Adds an operator of the ONNX-ML domain.</summary>
    public string MlNode(string op, IEnumerable<string> inputs, string? output = null, params AttributeProto[] attributes)
    {
        UsesMlDomain = true;
        return AddNode(op, MlDomain, inputs, output, attributes);
    }

    /// <summary>Adds an operator with several outputs (e.g. TopK's values and indices); returns their fresh names.</summary>
    public string[] NodeWithOutputs(string op, IEnumerable<string> inputs, int outputs, params AttributeProto[] attributes)
    {
        string first = AddNode(op, "", inputs, null, attributes);
        var node = Graph.Node[^1];
        for (int o = 1; o < outputs; o++) node.Output.Add(Fresh($"{first}_out"));
        return [.. node.Output];
    }

    private string AddNode(string op, string domain, IEnumerable<string> inputs, string? output, AttributeProto[] attributes)
    {
        string name = output ?? Fresh(op.ToLowerInvariant());
        var node = new NodeProto { OpType = op, Domain = domain, Name = name };
        node.Input.AddRange(inputs);
        node.Output.Add(name);
        node.Attribute.AddRange(attributes);
        Graph.Node.Add(node);
        return name;
    }

    /// <summary>Declares a graph input or output: a tensor of <paramref name="elementType"/> whose first dimension is the batch "N".</summary>
    public static ValueInfoProto Tensor(string name, TensorProto.Types.DataType elementType, params long[] trailingDims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimParam = "N" });
        foreach (long d in trailingDims) shape.Dim.Add(new TensorShapeProto.Types.Dimension { DimValue = d });
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)elementType, Shape = shape } },
        };
    }

    public static AttributeProto Int(string name, long value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = value };

    public static AttributeProto Float(string name, float value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = value };

    public static AttributeProto String(string name, string value) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(value) };

    public static AttributeProto Ints(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    public static AttributeProto Floats(string name, IEnumerable<float> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Floats };
        attribute.Floats.AddRange(values);
        return attribute;
    }

    public static AttributeProto Strings(string name, IEnumerable<string> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Strings };
        attribute.Strings.AddRange(values.Select(ByteString.CopyFromUtf8));
        return attribute;
    }
}
