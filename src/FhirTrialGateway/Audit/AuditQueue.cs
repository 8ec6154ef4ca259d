using System.Threading.Channels;
using FhirTrialGateway.Core.Audit;
using FhirTrialGateway.Core.Storage;

namespace FhirTrialGateway.Audit;

/// <summary>
/// Writes the AuditEvents of requests that change nothing (reads, searches, refused and failed requests) in batches:
/// one unit of work records every event waiting, instead of one unit, savepoint and completion per request. The
/// queue is bounded: when the writer falls behind, requests wait to enqueue rather than letting memory grow; an
/// audit record is never dropped.
/// </summary>
internal sealed class AuditQueue(IResourceStore store, ILogger<AuditQueue> logger) : BackgroundService
{
    private const int Capacity = 20_000;
    private const int MaxPerUnit = 512;

    private readonly Channel<PreparedAudit> _pending = Channel.CreateBounded<PreparedAudit>(
        new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    /// <summary>Queues the event; waits only when the queue is full. Not cancellable: a client leaving does not erase its audit.</summary>
    public async ValueTask EnqueueAsync(AuditTrail trail, int status)
    {
        // Built and indexed here, on the request's thread, recorded at the time the request ended: the single writer
        // only stores it.
        var audit = AuditWriter.Prepare(trail, status, DateTimeOffset.UtcNow);
        try
        {
            await _pending.Writer.WriteAsync(audit, CancellationToken.None);
        }
        catch (ChannelClosedException)
        {
            // Shutting down while a request finishes: write it directly (the store closes after the host has stopped).
            await WriteAsync([audit]);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _pending.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Runs until the queue is completed and empty (not until stoppingToken): queued events are written on shutdown.
        var batch = new List<PreparedAudit>(MaxPerUnit);
        while (await _pending.Reader.WaitToReadAsync(CancellationToken.None))
        {
            batch.Clear();
            while (batch.Count < MaxPerUnit && _pending.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            await WriteAsync(batch);
        }
    }

    private async Task WriteAsync(List<PreparedAudit> batch)
    {
        try
        {
            await store.WriteAsync(session =>
            {
                foreach (var audit in batch)
                {
                    AuditWriter.Record(session, audit);
                }

                return batch.Count;
            }, CancellationToken.None);
        }
        catch (Exception ex) when (batch.Count > 1)
        {
            // One bad record must not take its batchmates with it: write them one by one.
            logger.LogWarning(ex, "A batch of {AuditCount} audit records failed; writing them one by one", batch.Count);
            foreach (var item in batch)
            {
                await WriteAsync([item]);
            }
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "An audit record could not be written ({Interaction})", batch[0].Trail.Interaction);
        }
    }
}
