using System.CommandLine;
using FhirTrialGateway.Mapping.Output;
using FhirTrialGateway.Mapping.Smart;
using FhirTrialGateway.Validation;

namespace FhirTrialGateway.Mapping;

/// <summary>
/// <c>fhirgw import ctgov &lt;files&gt;</c> and <c>fhirgw import odm|redcap &lt;files&gt; --mapping &lt;file&gt; --study &lt;NCT&gt;</c>:
/// bundles go to --out (a folder), --server (a gateway's FHIR base; with --token, or --client-id and --client-key to
/// get and renew tokens as a SMART Backend Services client) or stdout (NDJSON). Exit 0: all sent;
/// 1: some input was invalid (listed); 2: bad usage.
/// </summary>
public static class ImportCommand
{
    public static Command Create()
    {
        var command = new Command("import", "Import trial data: a ClinicalTrials.gov record, or EDC exports (CDISC ODM, REDCap) through a trial mapping.");
        command.Subcommands.Add(Build("ctgov", "ClinicalTrials.gov API v2 study records (JSON) to ResearchStudy and related resources."));
        command.Subcommands.Add(Build("odm", "CDISC ODM 1.3.x clinical data (or Dataset-XML) to per-subject transaction bundles."));
        command.Subcommands.Add(Build("redcap", "A REDCap data dictionary CSV and flat data CSV(s) to per-subject transaction bundles."));
        return command;
    }

    /// <summary>Runs <c>fhirgw import {args}</c> in process with the given writers.</summary>
    public static Task<int> InvokeAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var root = new RootCommand("fhirgw") { Create() };
        return root.Parse(["import", .. args]).InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, cancellationToken);
    }

    private static Command Build(string kind, string description)
    {
        var files = new Argument<string[]>("files") { Arity = ArgumentArity.OneOrMore, Description = "Input files." };
        var mapping = new Option<string?>("--mapping") { Description = "The trial mapping (e.g. trials/epc-cli/mapping.json)." };
        var study = new Option<string?>("--study") { Description = "The study's NCT number (default: the mapping's study)." };
        var output = new Option<string?>("--out") { Description = "Write one bundle file per subject into this folder." };
        // A string, parsed below: System.CommandLine 2 has no Uri parser, and a bad URL is a usage error (exit 2).
        var server = new Option<string?>("--server") { Description = "POST the bundles to this FHIR base, e.g. http://localhost:8080/fhir." };
        var token = new Option<string?>("--token") { Description = "Bearer token for --server (a SMART Backend Services access token)." };
        var clientId = new Option<string?>("--client-id") { Description = "Get tokens for --server as this registered SMART Backend Services client (with --client-key)." };
        var clientKey = new Option<string?>("--client-key") { Description = "The client's private JWK file, as `fhirgw clients add` writes it." };
        var scope = new Option<string>("--scope")
        {
            Description = "Scopes to ask for with --client-id (the gateway grants those also registered).",
            DefaultValueFactory = _ => "system/*.crus",
        };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Send the valid subjects and list the invalid ones (default: send nothing if any is invalid)." };
        var profiles = new Option<string?>("--profiles") { Description = "The trial's FHIR package folder (default: profiles/ found upwards)." };
        var command = new Command(kind, description) { files, output, server, token, clientId, clientKey, scope, skipInvalid, profiles };
        if (kind != "ctgov")
        {
            command.Options.Add(mapping);
            command.Options.Add(study);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            var inputs = parse.GetRequiredValue(files);
            if (parse.GetValue(output) is not null && parse.GetValue(server) is not null)
            {
                await stderr.WriteLineAsync("--out and --server exclude each other.");
                return 2;
            }

            Uri? serverUrl = null;
            if (parse.GetValue(server) is { } serverText && (!Uri.TryCreate(serverText, UriKind.Absolute, out serverUrl) || serverUrl.Scheme is not ("http" or "https")))
            {
                await stderr.WriteLineAsync($"--server {serverText}: not an http(s) URL.");
                return 2;
            }

            if (CheckCredentials(serverUrl, parse.GetValue(token), parse.GetValue(clientId), parse.GetValue(clientKey)) is { } misuse)
            {
                await stderr.WriteLineAsync(misuse);
                return 2;
            }

            foreach (var missing in inputs.Where(f => !File.Exists(f)))
            {
                await stderr.WriteLineAsync($"{missing}: no such file.");
                return 2;
            }

            TrialMapping? trial = null;
            string? nct = null;
            if (kind != "ctgov")
            {
                if (parse.GetValue(mapping) is not { } mappingFile)
                {
                    await stderr.WriteLineAsync("--mapping is required for odm and redcap imports.");
                    return 2;
                }

                try
                {
                    trial = TrialMapping.Load(mappingFile);
                }
                catch (ImportInputException ex)
                {
                    await stderr.WriteLineAsync(ex.Issue.ToString());
                    return 2;
                }

                nct = parse.GetValue(study) ?? trial.Study;
                if (nct is null)
                {
                    await stderr.WriteLineAsync("--study is required (the mapping names no study).");
                    return 2;
                }
            }

            using var validator = new ProfileValidator(new ValidationOptions { ProfilesPath = parse.GetValue(profiles) }, Directory.GetCurrentDirectory());
            // No Warm(): it compiles every profile of the package; first uses of the few profiles an import needs
            // are serialized by the validator itself, which is all the parallel mapping requires.
            var checker = new ResourceChecker(validator);
            var tokens = serverUrl is not null && parse.GetValue(clientId) is { } client
                ? new BackendServicesTokenSource(serverUrl, client, parse.GetValue(clientKey)!, parse.GetRequiredValue(scope))
                : null;
            if (tokens is not null && await FirstToken(tokens, stderr, cancellationToken) is false)
            {
                tokens.Dispose();
                return 1;
            }

            await using IBundleSink sink = serverUrl is { } url
                ? tokens is not null ? new ServerSink(url, tokens) : new ServerSink(url, parse.GetValue(token))
                : parse.GetValue(output) is { } folder ? new FolderSink(folder)
                : new WriterSink(stdout);
            var progress = Console.IsErrorRedirected ? null : stderr;
            var summary = kind switch
            {
                "ctgov" => await Importer.CtgovAsync(inputs, checker, sink, parse.GetValue(skipInvalid), progress, cancellationToken),
                "odm" => await Importer.OdmAsync(inputs, trial!, nct!, checker, sink, parse.GetValue(skipInvalid), progress, cancellationToken),
                _ => await RunRedcap(inputs, trial!, nct!, checker, sink, parse.GetValue(skipInvalid), progress, stderr, cancellationToken),
            };
            if (summary is null)
            {
                return 2;
            }

            foreach (var issue in summary.Issues)
            {
                await stderr.WriteLineAsync(issue.ToString());
            }

            if (summary.RejectedSubjects.Count > 0)
            {
                await stderr.WriteLineAsync($"not sent: {string.Join(", ", summary.RejectedSubjects)}");
            }

            if (summary.HasErrors && !parse.GetValue(skipInvalid))
            {
                await stderr.WriteLineAsync("nothing was sent: fix the errors, or use --skip-invalid to send the valid subjects.");
            }

            await stderr.WriteLineAsync(summary.ToString());
            return summary.HasErrors ? 1 : 0;
        });
        return command;
    }

    /// <summary>Gets the first token before anything is read: a wrong key or registration is reported at once.</summary>
    private static async Task<bool> FirstToken(BackendServicesTokenSource tokens, TextWriter stderr, CancellationToken cancellationToken)
    {
        try
        {
            await tokens.GetAsync(null, cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException or IOException or System.Text.Json.JsonException
            or System.Security.Cryptography.CryptographicException)
        {
            await stderr.WriteLineAsync($"no access token: {ex.Message}");
            return false;
        }
    }

    /// <summary>Why the credential options do not fit together, or null when they do.</summary>
    private static string? CheckCredentials(Uri? server, string? token, string? clientId, string? clientKey)
    {
        if ((clientId is null) != (clientKey is null))
        {
            return "--client-id and --client-key go together.";
        }

        if (clientId is not null && token is not null)
        {
            return "--token and --client-id exclude each other: the import gets its own tokens as the client.";
        }

        if ((clientId ?? token) is not null && server is null)
        {
            return "--token and --client-id are for --server.";
        }

        return clientKey is not null && !File.Exists(clientKey) ? $"{clientKey}: no such file." : null;
    }

    private static async Task<ImportSummary?> RunRedcap(string[] inputs, TrialMapping trial, string nct, ResourceChecker checker, IBundleSink sink,
        bool skipInvalid, TextWriter? progress, TextWriter stderr, CancellationToken cancellationToken)
    {
        // The dictionary is recognised by its header, so the files can be given in any order.
        var dictionaries = inputs.Where(f => File.ReadLines(f).FirstOrDefault()?.Contains("Variable / Field Name", StringComparison.Ordinal) == true).ToList();
        if (dictionaries.Count != 1)
        {
            await stderr.WriteLineAsync($"A REDCap import takes exactly one data dictionary CSV among the files; found {dictionaries.Count}.");
            return null;
        }

        return await Importer.RedcapAsync(dictionaries[0], [.. inputs.Except(dictionaries)], trial, nct, checker, sink, skipInvalid, progress, cancellationToken);
    }
}
