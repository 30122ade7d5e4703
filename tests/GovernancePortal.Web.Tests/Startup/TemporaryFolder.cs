namespace GovernancePortal.Web.Tests.Startup;

/// <summary>A folder of its own under the system's temporary folder, removed with everything in it on dispose.</summary>
public sealed class TemporaryFolder : IDisposable
{
    public TemporaryFolder(string purpose)
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "governance-portal-tests", $"{purpose}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
            // Left for the operating system's temporary-file cleanup; never worth failing a test over.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
