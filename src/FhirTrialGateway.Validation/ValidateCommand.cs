using System.CommandLine;
using System.Text;
using FhirTrialGateway.Core.Fhir;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Validation;

public enum ValidateOutputFormat
{
    Text,
    Json,
}

/// <summary>What <c>fhirgw validate</c> was asked to do.</summary>
/// <param name="Inputs">Files, folders (searched recursively for *.json and *.xml) or "-" for standard input.</param>
/// <param name="Profiles">Profiles to validate every input against, besides core and its meta.profile claims.</param>
/// <param name="Packages">Extra FHIR packages: a <c>.tgz</c> or a folder each (<c>--ig</c>).</param>
/// <param name="Cache">Folder for cached definitions and snapshots (<c>--cache</c>), "none" for no cache; null: the configured one.</param>
public sealed record ValidateArguments(
    IReadOnlyList<string> Inputs,
    IReadOnlyList<string> Profiles,
    IReadOnlyList<string> Packages,
    ValidateOutputFormat Format = ValidateOutputFormat.Text,
    string? Cache = null);

/// <summary>
/// <c>fhirgw validate &lt;files, folders, bundles, or -&gt; [--profile URL] [--ig folder-or-tgz] [--format text|json]</c>:
/// offline validation for interface engineers. Exit code 0 when no input has an error, 1 when one has, 2 for bad usage.
/// </summary>
public static class ValidateCommand
{
    public const int Ok = 0;
    public const int HasErrors = 1;
    public const int BadUsage = 2;

    private const string StdinName = "<stdin>";

    /// <summary>The System.CommandLine command; its action runs on the console. <paramref name="baseOptions"/> supplies
    /// the configured "Validation" section (profiles folder, packages folder, terminology policy).</summary>
    public static Command CreateCommand(Func<ValidationOptions>? baseOptions = null)
    {
        var (command, read) = Define();
        command.SetAction(parse => Run(read(parse), Console.In, Console.Out, Console.Error, baseOptions?.Invoke()));
        return command;
    }

    /// <summary>Parses <paramref name="args"/> (the tokens after "validate") and runs; parse errors exit with 2.</summary>
    public static int Invoke(IReadOnlyList<string> args, TextReader stdin, TextWriter stdout, TextWriter stderr,
        ValidationOptions? baseOptions = null) =>
        Invoke(args, stdin, stdout, stderr, baseOptions, null);

    internal static int Invoke(IReadOnlyList<string> args, TextReader stdin, TextWriter stdout, TextWriter stderr,
        ValidationOptions? baseOptions, ProfileValidator? existing)
    {
        ArgumentNullException.ThrowIfNull(stderr);
        var (command, read) = Define();
        var parse = new RootCommand { command }.Parse(["validate", .. args]);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors)
            {
                stderr.WriteLine($"fhirgw validate: {error.Message}");
            }

            return BadUsage;
        }

        return Run(read(parse), stdin, stdout, stderr, baseOptions, existing);
    }

    public static int Run(ValidateArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr,
        ValidationOptions? baseOptions = null) =>
        Run(arguments, stdin, stdout, stderr, baseOptions, null);

    /// <param name="existing">A validator to use instead of building one (tests share a warm one); not disposed.</param>
    internal static int Run(ValidateArguments arguments, TextReader stdin, TextWriter stdout, TextWriter stderr,
        ValidationOptions? baseOptions, ProfileValidator? existing)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        ArgumentNullException.ThrowIfNull(stdin);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);

        // Usage problems are found before any validation starts, so nothing half-done is printed.
        var missingPackage = arguments.Packages.FirstOrDefault(p => !File.Exists(p) && !Directory.Exists(p));
        var problem = missingPackage is null ? null : $"--ig '{missingPackage}' is neither a file nor a folder.";
        if (problem is not null || !TryListInputs(arguments.Inputs, out var inputs, out problem))
        {
            stderr.WriteLine($"fhirgw validate: {problem}");
            return BadUsage;
        }

        var options = CopyOf(baseOptions ?? new ValidationOptions());
        if (arguments.Cache is not null)
        {
            options.SnapshotCachePath = arguments.Cache == ProfileValidator.NoCache ? ProfileValidator.NoCache : Path.GetFullPath(arguments.Cache);
        }

        foreach (var package in arguments.Packages)
        {
            options.ExtraPackages.Add(Path.GetFullPath(package));
        }

        ProfileValidator validator;
        try
        {
            validator = existing ?? new ProfileValidator(options, Directory.GetCurrentDirectory());
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"fhirgw validate: cannot load the FHIR packages: {ex.Message}");
            return BadUsage;
        }

        using (existing is null ? validator : null)
        {
            var stdinBytes = inputs.Contains(StdinName) ? ReadAll(stdin) : null;
            var results = new FileResult[inputs.Count];

            // The validator compiles each profile on first use under a lock, then runs one validation per core.
            Parallel.For(0, inputs.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
            {
                var bytes = inputs[i] == StdinName ? stdinBytes! : File.ReadAllBytes(inputs[i]);
                results[i] = ValidateOne(validator, inputs[i], bytes, arguments.Profiles);
            });

            if (arguments.Format == ValidateOutputFormat.Json)
            {
                ValidationReport.WriteJson(stdout, results);
            }
            else
            {
                ValidationReport.WriteText(stdout, results);
            }

            return results.Any(r => ValidationIssues.HasErrors(r.Outcome)) ? HasErrors : Ok;
        }
    }

    internal static FileResult ValidateOne(ProfileValidator validator, string name, byte[] bytes, IReadOnlyList<string> profiles)
    {
        Resource resource;
        try
        {
            resource = ResourceSerializer.Parse(bytes, DetectFormat(name, bytes));
        }
        catch (FhirException ex)
        {
            // A file that does not parse is reported like any other error of that file.
            return new FileResult(name, null, ex.Outcome);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or FormatException)
        {
            // The SDK's parser throws these for a few inputs it cannot model (one case of HL7's suite does this).
            return new FileResult(name, null, Outcomes.Error(OperationOutcome.IssueType.Structure, $"The file could not be read: {ex.Message}"));
        }

        return new FileResult(name, resource, validator.Validate(resource, profiles.Count == 0 ? null : profiles));
    }

    internal static FhirFormat DetectFormat(string name, ReadOnlySpan<byte> bytes)
    {
        if (name.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
        {
            return FhirFormat.Xml;
        }

        if (name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
        {
            return FhirFormat.Json;
        }

        // No telling extension (stdin, *.fhir): the first non-blank character decides; a UTF-8 BOM is skipped.
        foreach (var b in bytes.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? bytes[3..] : bytes)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n')
            {
                continue;
            }

            return b == (byte)'<' ? FhirFormat.Xml : FhirFormat.Json;
        }

        return FhirFormat.Json;
    }

    private static bool TryListInputs(IReadOnlyList<string> given, out List<string> inputs, out string? problem)
    {
        inputs = [];
        problem = null;
        if (given.Count == 0)
        {
            problem = "no input: give files, folders, or - for standard input.";
            return false;
        }

        foreach (var input in given)
        {
            if (input == "-")
            {
                inputs.Add(StdinName);
            }
            else if (Directory.Exists(input))
            {
                inputs.AddRange(Directory.EnumerateFiles(input, "*", SearchOption.AllDirectories)
                    .Where(f => f.EndsWith(".json", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".xml", StringComparison.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal));
            }
            else if (File.Exists(input))
            {
                inputs.Add(input);
            }
            else
            {
                problem = $"'{input}' is neither a file nor a folder.";
                return false;
            }
        }

        inputs = [.. inputs.Distinct(StringComparer.Ordinal)];
        return true;
    }

    private static (Command Command, Func<ParseResult, ValidateArguments> Read) Define()
    {
        var inputs = new Argument<string[]>("inputs")
        {
            Description = "Files, folders (searched recursively for *.json and *.xml), Bundles, or - for standard input.",
            Arity = ArgumentArity.OneOrMore,
        };
        var profile = new Option<string[]>("--profile")
        {
            Description = "Validate every input against this profile (canonical URL) too. Repeatable.",
        };
        var ig = new Option<string[]>("--ig")
        {
            Description = "Load this FHIR package (a .tgz or a folder) besides profiles/. Repeatable.",
        };
        var format = new Option<string>("--format")
        {
            Description = "text: one line per issue and a summary per file; json: the OperationOutcome(s).",
            DefaultValueFactory = _ => "text",
        };
        format.AcceptOnlyFromAmong("text", "json");
        var cache = new Option<string>("--cache")
        {
            Description = "Folder for definitions and snapshots kept between runs (default: under the system temp folder); none: keep nothing.",
        };

        var command = new Command("validate", "Validate FHIR resources offline against R4, the trial profiles and FHIR packages.")
        {
            inputs, profile, ig, format, cache,
        };
        return (command, parse => new ValidateArguments(
            parse.GetValue(inputs) ?? [],
            parse.GetValue(profile) ?? [],
            parse.GetValue(ig) ?? [],
            parse.GetValue(format) == "json" ? ValidateOutputFormat.Json : ValidateOutputFormat.Text,
            parse.GetValue(cache)));
    }

    private static ValidationOptions CopyOf(ValidationOptions source)
    {
        var copy = new ValidationOptions
        {
            ProfilesPath = source.ProfilesPath,
            PackagesPath = source.PackagesPath,
            RequiredProfiles = source.RequiredProfiles,
            UnknownCodeSystems = source.UnknownCodeSystems,
            SnapshotCachePath = source.SnapshotCachePath,
        };
        foreach (var package in source.ExtraPackages)
        {
            copy.ExtraPackages.Add(package);
        }

        return copy;
    }

    private static byte[] ReadAll(TextReader reader) => Encoding.UTF8.GetBytes(reader.ReadToEnd());
}

/// <summary>One validated input: its name, the resource when it parsed, and the issues.</summary>
public sealed record FileResult(string File, Resource? Resource, OperationOutcome Outcome);
