using System.Globalization;
using System.Text;
using Serilog;
using Serilog.Configuration;
using Serilog.Core;
using Serilog.Events;
using Serilog.Formatting;
using Serilog.Formatting.Display;

namespace FhirTrialGateway.Hosting;

/// <summary>
/// Writes log events to standard output a batch at a time, through Serilog's own batching (a channel drained by
/// one task): one write and one flush per batch instead of per event.
/// </summary>
/// <remarks>
/// Written by hand because neither served console sink batches: Serilog.Sinks.Console flushes every event, and
/// wrapping it in Serilog.Sinks.Async costs a spinning consumer (a perf profile of the create load: the async
/// sink's BlockingCollection consumer spun in sched_yield for 8% of the gateway's CPU, the console writes 10%).
/// The text is the console sink's default template, so the lines look the same.
/// </remarks>
internal sealed class BatchedConsoleSink(ITextFormatter formatter) : IBatchedLogEventSink
{
    public const string Template = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    // One writer per process: several gateways in one process (tests) write whole batches, never interleaved lines.
    private static readonly StreamWriter StandardOutput =
        new(Console.OpenStandardOutput(), new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), 64 * 1024) { AutoFlush = false };

    public Task EmitBatchAsync(IReadOnlyCollection<LogEvent> batch)
    {
        lock (StandardOutput)
        {
            foreach (var logEvent in batch)
            {
                formatter.Format(logEvent, StandardOutput);
            }

            StandardOutput.Flush();
        }

        return Task.CompletedTask;
    }

    public Task OnEmptyBatchAsync() => Task.CompletedTask;
}

internal static class BatchedConsoleSinkExtensions
{
    /// <summary>
    /// Standard output in batches: at most <paramref name="delay"/> late (the first event after a quiet spell goes
    /// at once), at most 100,000 events queued (past that new events are dropped rather than stalling requests).
    /// </summary>
    public static LoggerConfiguration BatchedConsole(this LoggerSinkConfiguration sinks, TimeSpan delay) =>
        sinks.Sink(
            new BatchedConsoleSink(new MessageTemplateTextFormatter(BatchedConsoleSink.Template, CultureInfo.InvariantCulture)),
            new BatchingOptions { BatchSizeLimit = 2000, BufferingTimeLimit = delay, EagerlyEmitFirstEvent = true, QueueLimit = 100_000 });
}
