using System.Text.Json.Nodes;
using FhirTrialGateway.Validation;
using Hl7.Fhir.Model;

namespace FhirTrialGateway.Tests.Validation;

/// <summary>
/// The on-disk cache of resolved definitions and generated snapshots (Validation:SnapshotCachePath): filled by the
/// first validator, reused by the next with the same verdicts, never reused for changed profiles, and repaired when
/// a file in it is damaged.
/// </summary>
public sealed class DefinitionCacheTests : IDisposable
{
    private const string UlcerAreaProfile = SharedValidators.Base + "trial-ulcer-area";

    private readonly string _root = Path.Combine(Path.GetTempPath(), "fhirgw-definition-cache-tests", Guid.NewGuid().ToString("N"));

    private string CacheRoot => Path.Combine(_root, "cache");

    public void Dispose()
    {
        if (Directory.Exists(_root))
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    [Fact]
    public void First_run_fills_the_cache_and_a_second_run_reuses_it_with_identical_verdicts()
    {
        // No shared core schemas here: the second validator must get the core definitions from the cache as well.
        using var first = new ProfileValidator(new ValidationOptions { ProfilesPath = SharedValidators.ProfilesPath, SnapshotCachePath = CacheRoot });
        var firstVerdicts = VerdictsOnEveryExample(first);

        first.DefinitionCacheFolder.Should().StartWith(CacheRoot);
        Directory.EnumerateFiles(first.DefinitionCacheFolder!).Should().NotBeEmpty();
        first.DefinitionCacheStatistics.Resolved.Should().BePositive();
        first.DefinitionCacheStatistics.Reused.Should().Be(0);

        using var second = new ProfileValidator(new ValidationOptions { ProfilesPath = SharedValidators.ProfilesPath, SnapshotCachePath = CacheRoot });
        var secondVerdicts = VerdictsOnEveryExample(second);

        second.DefinitionCacheFolder.Should().Be(first.DefinitionCacheFolder);
        second.DefinitionCacheStatistics.Should().Be(new DefinitionCacheStatistics(second.DefinitionCacheStatistics.Reused, 0, 0),
            "everything the first run resolved is on disk, and nothing in it is damaged");
        second.DefinitionCacheStatistics.Reused.Should().BePositive();
        secondVerdicts.Should().Equal(firstVerdicts);
    }

    [Fact]
    public void A_changed_profile_gets_a_new_cache_and_its_new_rules()
    {
        var profiles = CopyOfProfiles();
        using (var before = SharedValidators.With(o => { o.ProfilesPath = profiles; o.SnapshotCachePath = CacheRoot; }))
        {
            before.Validate(SharedValidators.Load("valid/Observation-ulcer-area-1.json")).Issue.Should().NotContain(i => ValidationIssues.IsError(i));
            before.DefinitionCacheStatistics.Resolved.Should().BePositive();
        }

        // The profile now fixes the unit to mm2: the valid example (cm2) must fail, which a stale snapshot would not see.
        var file = Path.Combine(profiles, "StructureDefinition-trial-ulcer-area.json");
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"fixedCode\": \"cm2\"", "\"fixedCode\": \"mm2\"", StringComparison.Ordinal));
        File.ReadAllText(file).Should().Contain("\"fixedCode\": \"mm2\"", "the test edits the fixed unit of the profile");

        using var after = SharedValidators.With(o => { o.ProfilesPath = profiles; o.SnapshotCachePath = CacheRoot; });
        var outcome = after.Validate(SharedValidators.Load("valid/Observation-ulcer-area-1.json"));

        outcome.Issue.Should().Contain(i => ValidationIssues.IsError(i) && ValidationIssues.Message(i).Contains("mm2", StringComparison.Ordinal));
        after.DefinitionCacheStatistics.Reused.Should().Be(0, "no entry of the old profiles' cache may be used");
        Directory.EnumerateDirectories(Path.Combine(CacheRoot, "definitions")).Should().HaveCount(2);
    }

    [Fact]
    public void A_damaged_cache_file_is_detected_and_regenerated()
    {
        var resource = SharedValidators.Load("valid/Observation-ulcer-area-1.json");
        string folder;
        string expected;
        using (var first = SharedValidators.With(o => o.SnapshotCachePath = CacheRoot))
        {
            expected = Describe(first.Validate(resource, [UlcerAreaProfile]));
            first.Warm();
            folder = first.DefinitionCacheFolder!;
        }

        var entry = EntryFor(folder, UlcerAreaProfile);
        var bytes = File.ReadAllBytes(entry);
        // One changed character in the body (the header keeps its hash): what a bad sector or a stray edit does.
        var position = Array.LastIndexOf(bytes, (byte)'c');
        bytes[position] = (byte)'x';
        File.WriteAllBytes(entry, bytes);
        // And one cut short, as a crash half-way through a copy would leave it.
        var truncated = EntryFor(folder, SharedValidators.Base + "trial-observation");
        File.WriteAllBytes(truncated, File.ReadAllBytes(truncated)[..10]);

        using (var second = SharedValidators.With(o => o.SnapshotCachePath = CacheRoot))
        {
            Describe(second.Validate(resource, [UlcerAreaProfile])).Should().Be(expected);
            second.Warm();
            second.DefinitionCacheStatistics.Rejected.Should().Be(2);
            second.DefinitionCacheStatistics.Resolved.Should().Be(2, "exactly the damaged entries are resolved again");
        }

        using var third = SharedValidators.With(o => o.SnapshotCachePath = CacheRoot);
        Describe(third.Validate(resource, [UlcerAreaProfile])).Should().Be(expected);
        third.Warm();
        third.DefinitionCacheStatistics.Rejected.Should().Be(0, "the regenerated entries were written back whole");
    }

    [Fact]
    public void Opening_a_cache_removes_the_folders_of_other_profiles_unused_for_a_month()
    {
        var definitions = Directory.CreateDirectory(Path.Combine(CacheRoot, "definitions")).FullName;
        var stale = Directory.CreateDirectory(Path.Combine(definitions, "stale")).FullName;
        Directory.SetLastWriteTimeUtc(stale, DateTime.UtcNow - TimeSpan.FromDays(31));
        var recent = Directory.CreateDirectory(Path.Combine(definitions, "recent")).FullName;
        Directory.SetLastWriteTimeUtc(recent, DateTime.UtcNow - TimeSpan.FromDays(29));

        using var validator = SharedValidators.With(o => o.SnapshotCachePath = CacheRoot);

        Directory.Exists(stale).Should().BeFalse();
        Directory.Exists(recent).Should().BeTrue("another set of profiles may still be in use");
        Directory.Exists(validator.DefinitionCacheFolder).Should().BeTrue();
    }

    [Fact]
    public void None_turns_the_cache_off()
    {
        using var validator = SharedValidators.With(o => o.SnapshotCachePath = ProfileValidator.NoCache);

        validator.Validate(SharedValidators.Load("valid/Observation-ulcer-area-1.json")).Issue.Should().NotContain(i => ValidationIssues.IsError(i));
        validator.DefinitionCacheFolder.Should().BeNull();
        validator.DefinitionCacheStatistics.Should().Be(default(DefinitionCacheStatistics));
    }

    private static List<string> VerdictsOnEveryExample(ProfileValidator validator) =>
        Directory.EnumerateFiles(SharedValidators.Example(""), "*.json", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "index.json")
            .Order(StringComparer.Ordinal)
            .Select(f => Path.GetFileName(f) + ": " + Describe(validator.Validate(SharedValidators.Load(Path.GetRelativePath(SharedValidators.Example(""), f)))))
            .ToList();

    private static string Describe(OperationOutcome outcome) =>
        string.Join(" | ", outcome.Issue.Select(i => $"{i.Severity} {i.Code} {ValidationIssues.Message(i)} @ {ValidationIssues.Where(i)}"));

    /// <summary>The cache file holding <paramref name="canonical"/>: its header line names it.</summary>
    private static string EntryFor(string folder, string canonical) =>
        Directory.EnumerateFiles(folder).Single(f => File.ReadLines(f).First().EndsWith(" canonical " + canonical, StringComparison.Ordinal));

    /// <summary>The package files of profiles/ (not its examples) in a folder of this test's own.</summary>
    private string CopyOfProfiles()
    {
        var copy = Directory.CreateDirectory(Path.Combine(_root, "profiles")).FullName;
        foreach (var file in Directory.EnumerateFiles(SharedValidators.ProfilesPath))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        // The copy must still be a package with the same canonical base, which package.json does not change.
        JsonNode.Parse(File.ReadAllText(Path.Combine(copy, "package.json"))).Should().NotBeNull();
        return copy;
    }
}
