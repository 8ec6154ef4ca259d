using System.Buffers;
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
/// Writes log events to standard output a buffer at a time: each event is rendered to UTF-8 text on the thread that
/// logs it and appended to an in-memory buffer, which one background thread writes and flushes: at once after a quiet
/// spell, otherwise at most <c>delay</c> after the previous write (or as soon as it holds 64 KiB). One write and one
/// flush per buffer, not per event.
/// </summary>
/// <remarks>
/// Written by hand because neither served console sink batches cheaply: Serilog.Sinks.Console flushes every event;
/// wrapping it in Serilog.Sinks.Async cost a spinning consumer (8% of the gateway's CPU under the create load, perf);
/// and Serilog's own batching holds each <see cref="LogEvent"/> (its properties, their values) until the batch is
/// written: at 26,000 requests/s and 200 ms that is 10-25 MB of request-log objects alive at every collection, which
/// the GC copied in 13-22 ms pauses (GC trace under the read load), the reads' p99. Rendered text is all that waits now.
/// The text is the console sink's default template, so the lines look the same.
/// </remarks>
internal sealed class BatchedConsoleSink : ILogEventSink, IDisposable
{
    public const string Template = "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}";

    private const int FlushAtBytes = 64 * 1024;

    // One output stream per process: several gateways in one process (tests) write whole buffers, never interleaved lines.
    private static readonly Stream StandardOutput = Console.OpenStandardOutput();

    [ThreadStatic]
    private static StringWriter? _rendering;

    private readonly ITextFormatter _formatter;
    private readonly TimeSpan _delay;
    private readonly Stream _output;
    private readonly int _maxBufferedBytes;
    private readonly object _gate = new();
    private readonly AutoResetEvent _wake = new(false);
    private readonly Thread _writer;
    private ArrayBufferWriter<byte> _filling = new(FlushAtBytes * 2);
    private ArrayBufferWriter<byte> _spare = new(FlushAtBytes * 2);
    private long _dropped;
    private volatile bool _stopping;

    /// <param name="output">Standard output unless a test passes its own stream.</param>
    /// <param name="maxBufferedBytes">
    /// Past this much unwritten text (the output blocked), new events are counted and dropped rather than queued.
    /// </param>
    public BatchedConsoleSink(ITextFormatter formatter, TimeSpan delay, Stream? output = null, int maxBufferedBytes = 16 * 1024 * 1024)
    {
        _formatter = formatter;
        _delay = delay;
        _output = output ?? StandardOutput;
        _maxBufferedBytes = maxBufferedBytes;
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "console-log-writer" };
        _writer.Start();
    }

    public void Emit(LogEvent logEvent)
    {
        var text = _rendering ??= new StringWriter(CultureInfo.InvariantCulture);
        var builder = text.GetStringBuilder();
        builder.Clear();
        _formatter.Format(logEvent, text);
        bool wake;
        lock (_gate)
        {
            if (_filling.WrittenCount > _maxBufferedBytes)
            {
                _dropped++;
                return;
            }

            var wasEmpty = _filling.WrittenCount == 0;
            foreach (var chunk in builder.GetChunks())
            {
                var written = Encoding.UTF8.GetBytes(chunk.Span, _filling.GetSpan(Encoding.UTF8.GetMaxByteCount(chunk.Length)));
                _filling.Advance(written);
            }

            wake = wasEmpty || _filling.WrittenCount >= FlushAtBytes;
        }

        if (wake)
        {
            _wake.Set();
        }
    }

    /// <summary>Writes what is buffered and stops (the logger is disposed when the host stops).</summary>
    public void Dispose()
    {
        _stopping = true;
        _wake.Set();
        _writer.Join();
        _wake.Dispose();
    }

    /// <summary>
    /// Writes a line at once when nothing was written for the delay (a quiet gateway's lines appear as they happen);
    /// under load, one write per delay or per full buffer, so a line is at most the delay late.
    /// </summary>
    private void WriteLoop()
    {
        var lastWrite = Environment.TickCount64 - (long)_delay.TotalMilliseconds;
        while (true)
        {
            _wake.WaitOne();
            var due = lastWrite + (long)_delay.TotalMilliseconds;
            while (!_stopping && BufferedBytes() < FlushAtBytes && Environment.TickCount64 < due)
            {
                _wake.WaitOne(TimeSpan.FromMilliseconds(Math.Max(1, due - Environment.TickCount64)));
            }

            WriteBuffered();
            lastWrite = Environment.TickCount64;
            if (_stopping)
            {
                WriteBuffered(); // what was logged while the last buffer was being written
                return;
            }
        }
    }

    private int BufferedBytes()
    {
        lock (_gate)
        {
            return _filling.WrittenCount;
        }
    }

    private void WriteBuffered()
    {
        ArrayBufferWriter<byte> full;
        long dropped;
        lock (_gate)
        {
            full = _filling;
            _filling = _spare;
            _spare = full;
            dropped = _dropped;
            _dropped = 0;
        }

        lock (_output)
        {
            if (full.WrittenCount > 0)
            {
                _output.Write(full.WrittenSpan);
            }

            if (dropped > 0)
            {
                _output.Write(Encoding.UTF8.GetBytes(
                    $"[{DateTime.Now:HH:mm:ss} WRN] {dropped} log events dropped: standard output did not keep up{Environment.NewLine}"));
            }

            _output.Flush();
        }

        full.ResetWrittenCount();
    }
}

internal static class BatchedConsoleSinkExtensions
{
    /// <summary>
    /// Standard output in batches: at most <paramref name="delay"/> late (the first event after a quiet spell goes at
    /// once), at most 16 MiB of text waiting (past that new events are dropped and counted rather than stalling requests).
    /// </summary>
    public static LoggerConfiguration BatchedConsole(this LoggerSinkConfiguration sinks, TimeSpan delay) =>
        sinks.Sink(new BatchedConsoleSink(new MessageTemplateTextFormatter(BatchedConsoleSink.Template, CultureInfo.InvariantCulture), delay));
}
