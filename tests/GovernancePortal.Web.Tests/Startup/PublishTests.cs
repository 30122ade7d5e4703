using System.Net;

namespace GovernancePortal.Web.Tests.Startup;

/// <summary>What an operator deploys: the publish folder alone must hold the web root and the schema files, and run.</summary>
public sealed class PublishTests(PublishedPortal published) : IClassFixture<PublishedPortal>
{
    [Theory]
    [InlineData("wwwroot/css/portal.css")]
    [InlineData("wwwroot/images/logo.svg")]
    [InlineData("db/sqlite/V1__initial_schema.sql")]
    [InlineData("db/postgres/V1__initial_schema.sql")]
    public void Publish_Includes(string path)
    {
        Assert.True(File.Exists(Path.Combine(published.Folder, path)), $"{path} is missing from the publish folder {published.Folder}.");
    }

    [Fact]
    public void Publish_IncludesEverySchemaFileOfTheRepository()
    {
        var inRepository = SchemaFiles(PublishedPortal.RepositoryRoot);
        Assert.NotEmpty(inRepository);

        Assert.Equal(inRepository, SchemaFiles(published.Folder));
    }

    [Fact]
    public async Task PublishedApp_StartedFromItsFolder_IsReadyAndServesItsStaticFiles()
    {
        var cancellation = TestContext.Current.CancellationToken;
        using var dataFolder = new TemporaryFolder("published-data");
        await using var portal = await PortalProcess.StartServingAsync(published.AppDll, dataFolder.Path, TimeSpan.FromSeconds(90), cancellation);
        using var http = new HttpClient { BaseAddress = portal.BaseAddress, Timeout = TimeSpan.FromSeconds(15) };

        using var stylesheet = await http.GetAsync("/css/portal.css", cancellation);
        Assert.True(stylesheet.StatusCode == HttpStatusCode.OK, $"GET /css/portal.css answered {(int)stylesheet.StatusCode}.{Environment.NewLine}{portal.Transcript}");
        Assert.Equal("text/css", stylesheet.Content.Headers.ContentType?.MediaType);
        Assert.Equal(
            await File.ReadAllTextAsync(Path.Combine(PublishedPortal.RepositoryRoot, "wwwroot", "css", "portal.css"), cancellation),
            await stylesheet.Content.ReadAsStringAsync(cancellation));

        // The assets every page links besides the portal's own.
        foreach (var path in new[] { "/images/logo.svg", "/_content/MudBlazor/MudBlazor.min.css", "/_framework/blazor.web.js" })
        {
            using var asset = await http.GetAsync(path, cancellation);
            Assert.True(asset.StatusCode == HttpStatusCode.OK, $"GET {path} answered {(int)asset.StatusCode}.{Environment.NewLine}{portal.Transcript}");
        }

        using var ready = await http.GetAsync("/health/ready", cancellation);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    /// <summary>The schema files under <c>db/</c> of <paramref name="root"/>, as sorted relative paths with forward slashes.</summary>
    private static List<string> SchemaFiles(string root)
    {
        var db = Path.Combine(root, "db");
        return Directory.Exists(db)
            ? Directory.EnumerateFiles(db, "*.sql", SearchOption.AllDirectories)
                .Select(path => Path.GetRelativePath(root, path).Replace('\\', '/'))
                .Order(StringComparer.Ordinal)
                .ToList()
            : [];
    }
}
