using System.Diagnostics;
using GovernancePortal.Testing;

namespace GovernancePortal.Cli.Tests;

/// <summary><c>gp</c> as an operator runs it: its own process on the test's database, configured by environment variables only.</summary>
public static class GpProcess
{
    public static Process Start(TestDatabase db, IReadOnlyDictionary<string, string> settings, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = db.Folder,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gp.dll"));
        foreach (var argument in arguments)
            start.ArgumentList.Add(argument);
        foreach (var name in start.Environment.Keys.Where(name => name.Contains("__", StringComparison.Ordinal)).ToList())
            start.Environment.Remove(name);
        foreach (var (name, value) in db.Configuration.Concat(settings.Select(pair => KeyValuePair.Create(pair.Key, (string?)pair.Value))))
            start.Environment[name.Replace(":", "__", StringComparison.Ordinal)] = value;
        return Process.Start(start)!;
    }
}
