using System.Globalization;
using System.Text;
using FhirTrialGateway.Hosting;
using Serilog;
using Serilog.Formatting.Display;

namespace FhirTrialGateway.Tests.Http;

/// <summary>
/// The request log's sink renders each event when it is logged and writes the rendered text in batches. Every event
/// must come out whole and exactly once, a quiet logger's line must not wait for a batch, and a blocked output must
/// cost dropped (and counted) lines, never an unbounded buffer or a blocked request.
/// </summary>
public sealed class BatchedConsoleSinkTests
{
    [Fact]
    public void Events_from_many_threads_come_out_whole_and_once()
    {
        using var output = new MemoryStream();
        using (var logger = Logger(output, TimeSpan.FromMilliseconds(50)))
        {
            Parallel.For(0, 4, thread =>
            {
                for (var i = 0; i < 5_000; i++)
                {
                    logger.Information("request {Thread} {Number} done with a longer tail {Tail}", thread, i, new string('x', i % 300));
                }
            });
        }

        var lines = Encoding.UTF8.GetString(output.ToArray()).Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        lines.Should().HaveCount(20_000);
        lines.Should().OnlyContain(line => line.StartsWith('[') && line.Contains(" INF] request ", StringComparison.Ordinal));
        lines.Select(line => line.Split(' ')[3] + "/" + line.Split(' ')[4]).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task A_quiet_loggers_line_is_written_without_waiting_for_the_batch_delay()
    {
        using var output = new MemoryStream();
        using var logger = Logger(output, TimeSpan.FromHours(1));
        logger.Information("first after a quiet spell");
        for (var i = 0; i < 200 && Written(output).Length == 0; i++)
        {
            await Task.Delay(25);
        }

        Written(output).Should().Contain("first after a quiet spell", "the delay only applies between writes, not to the first line");
    }

    [Fact]
    public void A_blocked_output_drops_and_counts_events_instead_of_buffering_without_limit()
    {
        using var release = new ManualResetEventSlim();
        using var output = new BlockingStream(release);
        var logger = Logger(output, TimeSpan.FromMilliseconds(10), maxBufferedBytes: 4096);
        logger.Information("first, its write blocks");
        output.Blocked.Wait(TimeSpan.FromSeconds(10)).Should().BeTrue();
        for (var i = 0; i < 1_000; i++)
        {
            logger.Information("event {Number} while the output is blocked", i);
        }

        release.Set();
        logger.Dispose();
        var text = Encoding.UTF8.GetString(output.Inner.ToArray());
        var kept = text.Split(Environment.NewLine).Count(line => line.Contains("while the output is blocked", StringComparison.Ordinal));
        kept.Should().BeInRange(1, 999, "about 4 KiB of lines are kept, the rest dropped");
        text.Should().Contain($"{1_000 - kept} log events dropped");
    }

    private static Serilog.Core.Logger Logger(Stream output, TimeSpan delay, int maxBufferedBytes = 16 * 1024 * 1024) =>
        new LoggerConfiguration().WriteTo.Sink(new BatchedConsoleSink(
            new MessageTemplateTextFormatter(BatchedConsoleSink.Template, CultureInfo.InvariantCulture), delay, output, maxBufferedBytes)).CreateLogger();

    private static string Written(MemoryStream output)
    {
        lock (output)
        {
            return Encoding.UTF8.GetString(output.ToArray());
        }
    }

    /// <summary>A stream whose first write blocks until released, as a full pipe would.</summary>
    private sealed class BlockingStream(ManualResetEventSlim release) : Stream
    {
        public MemoryStream Inner { get; } = new();

        public ManualResetEventSlim Blocked { get; } = new();

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => Inner.Length;

        public override long Position { get => Inner.Position; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            Blocked.Set();
            release.Wait();
            Inner.Write(buffer);
        }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                Inner.Dispose();
                Blocked.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
