using FhirTrialGateway.Core.Storage;
using Microsoft.Data.Sqlite;

namespace FhirTrialGateway.Storage.Sqlite;

/// <summary>Row mapping and prepared commands shared by reads and the write session.</summary>
internal static class SqliteRows
{
    /// <summary>Reads the columns of <see cref="SearchSql.VersionColumns"/> starting at <paramref name="offset"/>.</summary>
    public static StoredResource ReadVersion(SqliteDataReader reader, int offset = 0) => new(
        reader.GetString(offset),
        reader.GetString(offset + 1),
        reader.GetInt32(offset + 2),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(offset + 3)),
        (VersionMethod)reader.GetInt32(offset + 4),
        reader.IsDBNull(offset + 5) ? null : (byte[])reader.GetValue(offset + 5),
        reader.GetInt64(offset + 6),
        reader.IsDBNull(offset + 7) ? null : reader.GetString(offset + 7));

    public static long ToUnixMilliseconds(DateTimeOffset instant) => instant.ToUnixTimeMilliseconds();

    /// <summary>A command kept for reuse (SQLite prepares it once), with its named parameters in order.</summary>
    public static SqliteCommand Command(SqliteConnection connection, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        return command;
    }
}
