using FhirTrialGateway.Mapping.Ctgov;
using FhirTrialGateway.Mapping.Edc;
using FhirTrialGateway.Mapping.Output;

namespace FhirTrialGateway.Mapping;

/// <summary>The three imports, as the command runs them and tests and benchmarks call them.</summary>
public static class Importer
{
    /// <summary>ClinicalTrials.gov v2 records, one transaction per file.</summary>
    public static Task<ImportSummary> CtgovAsync(IReadOnlyList<string> files, ResourceChecker checker, IBundleSink sink, bool skipInvalid,
        TextWriter? progress, CancellationToken cancellationToken) =>
        Guarded(() => new ImportRunner(checker, sink, skipInvalid, progress).RunAsync(() => files, file =>
        {
            try
            {
                using var stream = File.OpenRead(file);
                return CtgovStudyMapper.Map(stream, file);
            }
            catch (ImportInputException ex)
            {
                return new MappedBundle(file, [], [ex.Issue]);
            }
        }, null, cancellationToken));

    public static Task<ImportSummary> OdmAsync(IReadOnlyList<string> files, TrialMapping mapping, string study, ResourceChecker checker,
        IBundleSink sink, bool skipInvalid, TextWriter? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(mapping);
        var mapper = new SubjectMapper(mapping, study);
        return Guarded(() =>
        {
            foreach (var file in files)
            {
                OdmReader.CheckWellFormed(file);
            }

            return new ImportRunner(checker, sink, skipInvalid, progress).RunAsync(
                () => files.SelectMany(f => OdmReader.ReadSubjects(f, mapping.DatasetSubjectItem)), mapper.Map, null, cancellationToken);
        });
    }

    /// <summary>A REDCap export: the data dictionary and one or more flat data files of the same project.</summary>
    public static Task<ImportSummary> RedcapAsync(string dictionary, IReadOnlyList<string> dataFiles, TrialMapping mapping, string study,
        ResourceChecker checker, IBundleSink sink, bool skipInvalid, TextWriter? progress, CancellationToken cancellationToken) =>
        Guarded(() =>
        {
            var reader = RedcapReader.LoadDictionary(dictionary);
            foreach (var file in dataFiles)
            {
                RedcapReader.CheckWellFormed(file);
            }

            var mapper = new SubjectMapper(mapping, study, reader.IdentifyingFields);
            return new ImportRunner(checker, sink, skipInvalid, progress).RunAsync(
                () => dataFiles.SelectMany(reader.ReadSubjects), mapper.Map, null, cancellationToken);
        });

    /// <summary>Unreadable input (malformed file, missing column) becomes a summary with that one error: nothing sent.</summary>
    private static async Task<ImportSummary> Guarded(Func<Task<ImportSummary>> run)
    {
        try
        {
            return await run();
        }
        catch (ImportInputException ex)
        {
            var summary = new ImportSummary();
            summary.Issues.Add(ex.Issue);
            return summary;
        }
    }
}
