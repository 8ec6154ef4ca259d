using System.Globalization;
using System.Xml;

namespace FhirTrialGateway.Tests.Mapping;

/// <summary>
/// A deterministic synthetic EPC-CLI ODM export with the item OIDs of trials/epc-cli/mapping.json: subjects in both
/// arms, every protocol visit, adverse events of every CTCAE grade, some subjects withdrawn after month 3, and an
/// identifying item (initials) the import must drop. <see cref="Overrides"/> changes single values (subject, event,
/// item) to build updated or broken exports.
/// </summary>
internal sealed class EpcCliOdmGenerator(int subjects = 27)
{
    public static readonly string[] Visits = ["SE.SCREENING", "SE.BASELINE", "SE.M1", "SE.M3", "SE.M6", "SE.M12"];
    private static readonly int[] VisitDays = [-14, 0, 30, 91, 182, 365];

    public Dictionary<(string Subject, string Event, string Item), string?> Overrides { get; } = [];

    /// <summary>Extra raw ItemData (subject, event, item, value) appended to the event's first group.</summary>
    public List<(string Subject, string Event, string Item, string Value)> Extra { get; } = [];

    public static string Key(int index) => $"P{index:D3}";

    public static bool IsWithdrawn(int index) => index % 9 == 5;

    public static int Grade(int aeNumber) => aeNumber % 5 + 1;

    public void Write(string path)
    {
        using var writer = XmlWriter.Create(path, new XmlWriterSettings { Indent = true });
        Write(writer);
    }

    public void Write(XmlWriter xml)
    {
        ArgumentNullException.ThrowIfNull(xml);
        const string ns = "http://www.cdisc.org/ns/odm/v1.3";
        xml.WriteStartElement("ODM", ns);
        xml.WriteAttributeString("FileType", "Snapshot");
        xml.WriteAttributeString("ODMVersion", "1.3.2");
        xml.WriteAttributeString("FileOID", "EPC-CLI-SYNTHETIC");
        xml.WriteAttributeString("CreationDateTime", "2025-01-15T10:00:00");
        xml.WriteStartElement("ClinicalData", ns);
        xml.WriteAttributeString("StudyOID", "EPC-CLI");
        xml.WriteAttributeString("MetaDataVersionOID", "v1");
        var aeNumber = 0;
        for (var i = 1; i <= subjects; i++)
        {
            var random = new Random(i);
            var key = Key(i);
            var start = new DateOnly(2024, 5, 6).AddDays(i * 7 % 180);
            var iv = i % 2 == 1;
            var withdrawn = IsWithdrawn(i);
            xml.WriteStartElement("SubjectData", ns);
            xml.WriteAttributeString("SubjectKey", key);
            for (var v = 0; v < Visits.Length; v++)
            {
                if (withdrawn && v > 3)
                {
                    break;
                }

                var date = start.AddDays(VisitDays[v]);
                var items = new List<(string, string)> { ("IT.VISDAT", Iso(date)) };
                if (v == 0)
                {
                    items.AddRange([("IT.ARM", iv ? "1" : "2"), ("IT.SEX", i % 3 == 0 ? "F" : "M"), ("IT.BRTHYR", (1940 + i).ToString(CultureInfo.InvariantCulture)),
                        ("IT.INITIALS", "XX"), ("IT.WAGNER", (1 + i % 4).ToString(CultureInfo.InvariantCulture))]);
                }

                if (v == 1)
                {
                    items.Add(("IT.RANDDAT", Iso(date)));
                    if (iv)
                    {
                        items.Add(("IT.INFDAT", Iso(date)));
                    }
                }

                var improvement = v <= 1 ? 0 : v;
                items.Add(("IT.RUTH", Math.Clamp(5 - improvement / 2 - i % 2, 0, 6).ToString(CultureInfo.InvariantCulture)));
                if (v >= 1)
                {
                    items.AddRange([
                        ("IT.ULCAREA", Dec(Math.Max(0, 6.5 - improvement * 0.8 + random.NextDouble()))),
                        ("IT.PWD", (40 + improvement * 15 + random.Next(10)).ToString(CultureInfo.InvariantCulture)),
                        ("IT.ICD", (80 + improvement * 20 + random.Next(10)).ToString(CultureInfo.InvariantCulture)),
                        ("IT.ABI_R", Dec(0.4 + random.NextDouble() * 0.2)), ("IT.ABI_L", Dec(0.6 + random.NextDouble() * 0.2)),
                        ("IT.TBI_R", Dec(0.2 + random.NextDouble() * 0.1)),
                        ("IT.TCPO2_R", (20 + random.Next(20)).ToString(CultureInfo.InvariantCulture)),
                        ("IT.VQ6", (10 + improvement + random.Next(3)).ToString(CultureInfo.InvariantCulture)),
                    ]);
                }

                WriteEvent(xml, ns, key, Visits[v], "1", "IG.VISIT", [items]);
            }

            // Adverse events: 0-2 per subject, grades cycling 1..5 over the study, so every grade occurs.
            var aes = new List<List<(string, string)>>();
            for (var a = 0; a < i % 3; a++)
            {
                var grade = Grade(aeNumber++);
                var ae = new List<(string, string)>
                {
                    ("IT.AESEQ", (a + 1).ToString(CultureInfo.InvariantCulture)),
                    ("IT.AETERM", grade >= 4 ? "Peripheral ischemia" : "Pain in extremity"),
                    ("IT.AETERMCD", grade >= 4 ? "C143749" : "C143723"),
                    ("IT.AESTDAT", Iso(start.AddDays(10 + a * 20))),
                    ("IT.AEGRADE", grade.ToString(CultureInfo.InvariantCulture)),
                    ("IT.AESER", grade >= 3 ? "Y" : "N"),
                    ("IT.AEOUT", grade == 5 ? "FATAL" : grade == 4 ? "RECOVERING" : "RECOVERED"),
                };
                if (iv)
                {
                    ae.Add(("IT.AEREL", (1 + a % 5).ToString(CultureInfo.InvariantCulture)));
                }

                aes.Add(ae);
            }

            if (aes.Count > 0)
            {
                WriteEvent(xml, ns, key, "SE.AELOG", "1", "IG.AE", aes);
            }

            var end = withdrawn ? start.AddDays(120) : start.AddDays(366);
            WriteEvent(xml, ns, key, "SE.EOS", "1", "IG.EOS", [[("IT.DSSTAT", withdrawn ? "WITHDRAWN" : "COMPLETED"), ("IT.DSDAT", Iso(end))]]);
            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    private void WriteEvent(XmlWriter xml, string ns, string subject, string @event, string repeat, string group, List<List<(string Item, string Value)>> groups)
    {
        xml.WriteStartElement("StudyEventData", ns);
        xml.WriteAttributeString("StudyEventOID", @event);
        xml.WriteAttributeString("StudyEventRepeatKey", repeat);
        xml.WriteStartElement("FormData", ns);
        xml.WriteAttributeString("FormOID", "F." + group[3..]);
        for (var g = 0; g < groups.Count; g++)
        {
            xml.WriteStartElement("ItemGroupData", ns);
            xml.WriteAttributeString("ItemGroupOID", group);
            xml.WriteAttributeString("ItemGroupRepeatKey", (g + 1).ToString(CultureInfo.InvariantCulture));
            var items = groups[g].Select(i => (i.Item, (string?)i.Value)).ToList();
            if (g == 0)
            {
                items.AddRange(Extra.Where(e => e.Subject == subject && e.Event == @event).Select(e => (e.Item, (string?)e.Value)));
            }

            foreach (var (item, original) in items)
            {
                var value = Overrides.TryGetValue((subject, @event, item), out var changed) ? changed : original;
                if (value is null)
                {
                    continue; // an override of null removes the item
                }

                xml.WriteStartElement("ItemData", ns);
                xml.WriteAttributeString("ItemOID", item);
                xml.WriteAttributeString("Value", value);
                xml.WriteEndElement();
            }

            xml.WriteEndElement();
        }

        xml.WriteEndElement();
        xml.WriteEndElement();
    }

    private static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private static string Dec(double value) => Math.Round(value, 2).ToString("0.00", CultureInfo.InvariantCulture);
}
