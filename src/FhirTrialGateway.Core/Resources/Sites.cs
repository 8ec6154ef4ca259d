using Hl7.Fhir.Model;

namespace FhirTrialGateway.Core.Resources;

/// <summary>
/// Site isolation: every resource a hospital writes carries its site, as a meta.tag the client cannot choose and as
/// a store column every read, search and history filters on. Another site's resources answer as if they did not exist.
/// </summary>
public static class Sites
{
    public const string TagSystem = "urn:fhirtrialgateway:site";

    /// <summary>The site a version belongs to: the writer's site, else the site tag an admin wrote, else none.</summary>
    public static string? Of(Resource resource, string? writerSite) =>
        writerSite ?? resource.Meta?.Tag.FirstOrDefault(t => t.System == TagSystem)?.Code;

    /// <summary>Replaces any site tag with <paramref name="site"/> (or removes it when the resource has no site).</summary>
    public static void Stamp(Resource resource, string? site)
    {
        if (site is null && resource.Meta is null)
        {
            return;
        }

        resource.Meta ??= new Meta();
        resource.Meta.Tag.RemoveAll(t => t.System == TagSystem);
        if (site is not null)
        {
            resource.Meta.Tag.Add(new Coding(TagSystem, site));
        }
    }

    /// <summary>True when a caller bound to <paramref name="callerSite"/> may see a resource of <paramref name="resourceSite"/>.</summary>
    public static bool Visible(string? callerSite, string? resourceSite) => callerSite is null || callerSite == resourceSite;
}
