using System.Text;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Mapping.Output;

/// <summary>One JSON file per bundle, named after its subject (or NCT number), in a folder.</summary>
public sealed class FolderSink : IBundleSink
{
    private readonly string _folder;

    public FolderSink(string folder)
    {
        _folder = folder;
        Directory.CreateDirectory(folder);
    }

    public async Task<SendResult> SendAsync(string key, Bundle bundle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var name = new string([.. key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' ? c : '_')]);
        await File.WriteAllBytesAsync(Path.Combine(_folder, $"{name}.json"), ResourceSerializer.SerializeJson(bundle, pretty: true), cancellationToken);
        return new SendResult(0, 0, 0, bundle.Entry.Count);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>NDJSON on a writer (stdout): one bundle per line, whole lines only.</summary>
public sealed class WriterSink(TextWriter writer) : IBundleSink
{
    private readonly SemaphoreSlim _lock = new(1, 1);

    public async Task<SendResult> SendAsync(string key, Bundle bundle, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bundle);
        var line = Encoding.UTF8.GetString(ResourceSerializer.SerializeJson(bundle));
        await _lock.WaitAsync(cancellationToken);
        try
        {
            await writer.WriteLineAsync(line.AsMemory(), cancellationToken);
        }
        finally
        {
            _lock.Release();
        }

        return new SendResult(0, 0, 0, bundle.Entry.Count);
    }

    public async ValueTask DisposeAsync()
    {
        await writer.FlushAsync();
        _lock.Dispose();
    }
}
