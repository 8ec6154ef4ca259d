using System.Diagnostics;
using FhirTrialGateway.Core.Audit;

namespace FhirTrialGateway.Audit;

/// <summary>
/// Writes the search index rows of stored AuditEvents in the background (<see cref="AuditSearchIndex"/>), but only
/// while the gateway leaves CPU to spare: indexing costs about as much CPU as the reads it records, so under a load
/// that saturates the machine it waits, and the next AuditEvent search (or a quieter moment) catches up. It pauses
/// before each chunk and measures the process's CPU use during the pause, when it does no work of its own; a chunk
/// follows only if that stayed under <see cref="AuditIndexingOptions.IndexWhenCpuBelow"/> of the machine. Pausing at
/// least as long as the previous chunk took keeps its own share of the machine at half or less.
/// </summary>
internal sealed class AuditIndexingService(AuditSearchIndex index, AuditIndexingOptions options, ILogger<AuditIndexingService> logger)
    : BackgroundService
{
    private static readonly TimeSpan ShortestPause = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan IdlePause = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var pause = IdlePause;
        while (!stoppingToken.IsCancellationRequested)
        {
            var cpuBefore = Environment.CpuUsage.TotalTime;
            var paused = Stopwatch.StartNew();
            try
            {
                await Task.Delay(pause, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            var busy = (Environment.CpuUsage.TotalTime - cpuBefore) / (paused.Elapsed * Environment.ProcessorCount);
            if (busy >= options.IndexWhenCpuBelow)
            {
                pause = IdlePause;
                continue;
            }

            var chunk = Stopwatch.StartNew();
            try
            {
                var indexed = await index.IndexNextChunkAsync(stoppingToken);
                pause = indexed < AuditSearchIndex.ChunkSize ? IdlePause : TimeSpan.FromTicks(Math.Max(ShortestPause.Ticks, chunk.Elapsed.Ticks));
                if (indexed > 0)
                {
                    logger.LogDebug("Indexed {AuditCount} AuditEvents in {ElapsedMs} ms", indexed, chunk.ElapsedMilliseconds);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Nothing is lost: the events are stored and the mark did not move; the next round (or search) retries.
                logger.LogWarning(ex, "Background indexing of AuditEvents failed; retrying later");
                pause = IdlePause;
            }
        }
    }
}

/// <summary>Configuration section <c>Audit</c>.</summary>
internal sealed class AuditIndexingOptions
{
    /// <summary>
    /// Background indexing of AuditEvents runs while the gateway's CPU use stays under this share of the machine
    /// (0.5: half of all cores). 0 turns it off (AuditEvent searches still index everything first); 1 or more: always.
    /// </summary>
    public double IndexWhenCpuBelow { get; set; } = 0.5;
}
