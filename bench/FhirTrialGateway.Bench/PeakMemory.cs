using System.Diagnostics;

namespace FhirTrialGateway.Bench;

/// <summary>
/// Samples this process's managed heap and working set every 20 ms while a phase runs and keeps the peaks: an
/// end-of-phase reading would miss what streaming is meant to bound (the largest moment, not the last one).
/// </summary>
internal sealed class PeakMemory : IDisposable
{
    private readonly Thread _thread;
    private readonly Process _self = Process.GetCurrentProcess();
    private volatile bool _stop;

    private PeakMemory()
    {
        _thread = new Thread(Sample) { IsBackground = true, Name = "peak-memory" };
        _thread.Start();
    }

    public long PeakManagedBytes { get; private set; }

    public long PeakWorkingSetBytes { get; private set; }

    /// <summary>Collects first, so each phase starts from what the process really retains.</summary>
    public static PeakMemory Start()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return new PeakMemory();
    }

    private void Sample()
    {
        while (!_stop)
        {
            _self.Refresh();
            PeakManagedBytes = Math.Max(PeakManagedBytes, GC.GetTotalMemory(false));
            PeakWorkingSetBytes = Math.Max(PeakWorkingSetBytes, _self.WorkingSet64);
            Thread.Sleep(20);
        }
    }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
        _self.Dispose();
    }
}
